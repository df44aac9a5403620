#!/usr/bin/env bash
# npm run bench: every scenario of issue 15 (start-up, bursts, status, logs, exec, footprint, the VIC
# layout) through the real control plane and Docker engine, each beside the raw engine measured in the
# same run; a table on stdout and JSON in bench/results/. Nothing here passes or fails on speed.
#   VK_BENCH_SCALE=small            a quick run (bursts of 20 and 50); default: bursts of 100, 300, 500
#   VK_BENCH_SCENARIOS=startup,...  only some (startup,status,logs,exec,vic,volumes,vch,scale,requests)
#   VK_BENCH_PROFILE=1              vic-kubelet CPU profiles and a heap snapshot, in bench/results/profiles
#   BENCH_PROBES=1                  also the probe cost (bench/probes.ts)
# An environment that already answers (VK_ENV_DIR/env.sh from a running test/env/up.sh) is used as it
# is; otherwise the test environment is installed and brought up first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
env_sh=${VK_ENV_DIR:-$root/.cache/env}/env.sh
running() {
  [[ -f $env_sh ]] || return 1
  # shellcheck disable=SC1090
  (source "$env_sh" && kubectl get --raw /readyz >/dev/null 2>&1 && docker -H "$DOCKER_HOST" info >/dev/null 2>&1)
}
if ! running; then
  # An environment that exists but does not answer (a hung engine) is not brought up again under
  # whoever else is using it: say so and stop.
  if [[ -f $env_sh ]]; then
    echo "bench: the environment of $env_sh does not answer (API server /readyz or docker info); fix or restart it first" >&2
    exit 1
  fi
  bash test/env/install.sh
  bash test/env/up.sh
  env_sh=$root/.cache/env/env.sh
fi
# shellcheck disable=SC1090
source "$env_sh"
npm run --silent build
export VK_E2E_DIST=1
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(uptime)"
npx tsx bench/main.ts
if [[ ${BENCH_PROBES:-0} == 1 ]]; then
  echo "== probe cost: vic-kubelet and dockerd CPU with ${BENCH_PROBE_PODS:-200} pods probed every second"
  for kind in none httpGet exec both; do
    npx tsx bench/probes.ts "${BENCH_PROBE_PODS:-200}" "$kind" 60
  done
fi
echo "== $(uptime)"
