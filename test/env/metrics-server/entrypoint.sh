#!/bin/sh
# Entrypoint of the vic-test/metrics-server image. A kubelet would mount the pod's service account token
# and set KUBERNETES_SERVICE_HOST/PORT, and metrics-server would use its in-cluster config. vic-kubelet
# does not mount volumes (so no token files) yet: the Deployment passes the token and the cluster CA as
# env from the service account's token Secret, and this script turns them into the kubeconfig that
# metrics-server reads for the API server, for delegated authentication and for authorization.
# KUBERNETES_SERVICE_HOST/PORT name the API server as the pod reaches it; its serving certificate is
# for kubernetes.default.svc, not for that address, hence tls-server-name.
set -eu
umask 077
printf '%s\n' "$SA_CA_CRT" >/tmp/ca.crt
kubeconfig() {
  printf '%s\n' \
    'apiVersion: v1' \
    'kind: Config' \
    'clusters:' \
    '- name: cluster' \
    '  cluster:' \
    "    server: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT" \
    '    certificate-authority: /tmp/ca.crt' \
    '    tls-server-name: kubernetes.default.svc' \
    'users:' \
    '- name: metrics-server' \
    '  user:' \
    "    token: $SA_TOKEN" \
    'contexts:' \
    '- name: in-cluster' \
    '  context: {cluster: cluster, user: metrics-server}' \
    'current-context: in-cluster'
}
kubeconfig >/tmp/kubeconfig
unset SA_TOKEN SA_CA_CRT
exec /metrics-server --kubeconfig=/tmp/kubeconfig --authentication-kubeconfig=/tmp/kubeconfig \
  --authorization-kubeconfig=/tmp/kubeconfig "$@"
