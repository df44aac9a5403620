#!/usr/bin/env bash
# npm start: runs vic-kubelet against embedded defaults. Without DOCKER_HOST, a private dockerd is
# the VCH; without KUBECONFIG, a local control plane (built from the k8s.io/kubernetes Go module)
# is the cluster. Extra arguments go to vic-kubelet (npm start -- --node-name my-node).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
env_dir=$root/test/env

if [[ -z ${KUBECONFIG:-} ]]; then
  bash "$env_dir/install.sh"
else
  VK_SKIP_CONTROLPLANE=1 bash "$env_dir/install.sh"
fi
if [[ -z ${DOCKER_HOST:-} ]]; then
  bash "$env_dir/docker.sh" up
  bash "$env_dir/images.sh"
  export DOCKER_HOST=unix:///var/tmp/vic-kubelet-docker/docker.sock
  embedded_vch=1
fi
args=()
# The embedded VCH has no registry access: its pod sandboxes use the locally built pause image.
if [[ -n ${embedded_vch:-} ]]; then args+=(--sandbox-image vic-test/pause:latest); fi
if [[ -z ${KUBECONFIG:-} ]]; then
  bash "$env_dir/controlplane.sh" up
  export KUBECONFIG=$root/.cache/env/admin.kubeconfig
  # The local API server reaches the kubelet API on loopback with a client certificate of its CA.
  args+=(--node-ip 127.0.0.1 --client-ca-file "$root/.cache/env/pki/ca.crt")
  echo "[start] local cluster: export KUBECONFIG=$KUBECONFIG" >&2
fi
npm run --silent build
exec node "$root/dist/src/cli/vic-kubelet.js" --node-name "${VK_NODE_NAME:-vic-local}" "${args[@]}" "$@"
