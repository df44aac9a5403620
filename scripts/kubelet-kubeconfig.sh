#!/usr/bin/env bash
# Writes a kubeconfig that authenticates as the vic-kubelet ServiceAccount of deploy/rbac.yaml (applied
# first), so vic-kubelet can run with exactly the permissions the manifests grant. Usage:
#   scripts/kubelet-kubeconfig.sh OUT [DURATION]     (KUBECONFIG: an admin of the cluster)
# The e2e suite runs its vic-kubelets with it when VK_E2E_KUBELET_KUBECONFIG=OUT:
#   VK_E2E_KUBELET_KUBECONFIG=OUT npx ava --concurrency 1 test/e2e/pods.test.ts test/e2e/node.test.ts
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: kubelet-kubeconfig.sh OUT [DURATION]}
duration=${2:-4h}
kubectl apply -f "$root/deploy/rbac.yaml" >/dev/null
token=$(kubectl create token vic-kubelet -n vic-system --duration "$duration")
server=$(kubectl config view --minify --raw -o 'jsonpath={.clusters[0].cluster.server}')
ca=$(kubectl config view --minify --raw -o 'jsonpath={.clusters[0].cluster.certificate-authority-data}')
if [[ -z $ca ]]; then
  ca_file=$(kubectl config view --minify --raw -o 'jsonpath={.clusters[0].cluster.certificate-authority}')
  ca=$(base64 -w0 <"$ca_file")
fi
umask 077
cat >"$out" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: cluster
  cluster: {server: "$server", certificate-authority-data: "$ca"}
users:
- name: vic-system/vic-kubelet
  user: {token: "$token"}
contexts:
- name: vic-kubelet
  context: {cluster: cluster, user: vic-system/vic-kubelet}
current-context: vic-kubelet
YAML
echo "$out"
