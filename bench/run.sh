#!/usr/bin/env bash
# npm run bench: brings up the test environment, then measures vic-kubelet against the raw Docker
# engine in the same run. Figures and ratios are printed; nothing here passes or fails on speed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash test/env/install.sh
bash test/env/up.sh
# shellcheck disable=SC1091
source .cache/env/env.sh
npm run --silent build
export VK_E2E_DIST=1
echo "== pod VM cost over the bare engine (src/vch)"
npx tsx bench/vch-create.ts "${BENCH_N:-20}"
echo "== pods through the cluster (vic-kubelet process, API server, VCH)"
npx tsx bench/pods.ts "${BENCH_N:-20}"
echo "== pod start in each pod layout (shared on the engine, vm-per-pod on the VIC contract proxy)"
npx tsx bench/layouts.ts "${BENCH_N:-10}"
echo "== probe cost: vic-kubelet and dockerd CPU with ${BENCH_PROBE_PODS:-200} pods probed every second"
for kind in none httpGet exec both; do
  npx tsx bench/probes.ts "${BENCH_PROBE_PODS:-200}" "$kind" 60
done
echo "== what volumes add to a pod start (no volume, kube-api-access, three volumes)"
npx tsx bench/volumes.ts "${BENCH_N:-10}"
