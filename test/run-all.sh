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
npx ava --serial 'test/**/*.test.ts'
