#!/usr/bin/env bash
# The one command that runs every test: install, lint, format check, type check, unit tests, then
# integration and end-to-end tests against the real environment brought up by test/env/up.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash test/env/install.sh
echo "== lint and format"
npx eslint .
npx prettier --check .
echo "== type check"
npx tsc -p tsconfig.json --noEmit
echo "== build"
npm run --silent build
echo "== unit tests"
npx ava 'src/**/*.test.ts'
echo "== environment"
bash test/env/up.sh
trap 'bash test/env/down.sh' EXIT
# shellcheck disable=SC1091
source .cache/env/env.sh
echo "== integration and end-to-end tests"
# One file at a time: several files start vic-kubelet processes and restart parts of the environment.
export VK_E2E_DIST=1
npx ava --concurrency 1 'test/**/*.test.ts'
