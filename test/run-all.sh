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
export VK_E2E_DIST=1
# Every e2e file has its own node name and namespace, so files run side by side (they mostly wait on
# the API server and the engine). The one file that restarts the shared API server runs alone, after.
alone=test/e2e/apiserver-restart.test.ts
npx ava --concurrency "${VK_E2E_CONCURRENCY:-3}" 'test/**/*.test.ts' "!$alone"
npx ava --concurrency 1 "$alone"
