#!/usr/bin/env bash
# A real Kubernetes control plane on loopback: etcd, kube-apiserver, kube-scheduler and
# kube-controller-manager built by build-controlplane.sh, with certificates from pki.sh and an admin
# kubeconfig at VK_KUBECONFIG. Usage: controlplane.sh up|down.
source "$(dirname "$0")/lib.sh"

P=$VK_PKI_DIR
server=https://127.0.0.1:$VK_APISERVER_PORT

write_kubeconfig() { # FILE USER CERT KEY
  cat >"$1" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: vic-test
  cluster:
    server: $server
    certificate-authority: $P/ca.crt
users:
- name: $2
  user:
    client-certificate: $3
    client-key: $4
contexts:
- name: vic-test
  context: {cluster: vic-test, user: $2}
current-context: vic-test
YAML
}

apiserver_ready() { curl -fsS --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key" "$server/readyz" >/dev/null; }

up() {
  bash "$VK_ROOT/test/env/build-controlplane.sh"
  bash "$VK_ROOT/test/env/pki.sh"
  write_kubeconfig "$VK_KUBECONFIG" admin "$P/admin.crt" "$P/admin.key"
  write_kubeconfig "$VK_ENV_DIR/scheduler.kubeconfig" system:kube-scheduler "$P/scheduler.crt" "$P/scheduler.key"
  write_kubeconfig "$VK_ENV_DIR/controller-manager.kubeconfig" system:kube-controller-manager \
    "$P/controller-manager.crt" "$P/controller-manager.key"

  if ! is_running etcd; then
    start_bg etcd "$VK_BIN_DIR/etcd" --name vic-test --data-dir "$VK_ENV_DIR/etcd" \
      --listen-client-urls "http://127.0.0.1:$VK_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$VK_ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$((VK_ETCD_PORT + 1))" \
      --initial-advertise-peer-urls "http://127.0.0.1:$((VK_ETCD_PORT + 1))" \
      --initial-cluster "vic-test=http://127.0.0.1:$((VK_ETCD_PORT + 1))" \
      --listen-metrics-urls "http://127.0.0.1:$((VK_ETCD_PORT + 2))" \
      --quota-backend-bytes 1073741824 --unsafe-no-fsync
    wait_for etcd 30 curl -fsS "http://127.0.0.1:$((VK_ETCD_PORT + 2))/health" || { tail -20 "$VK_LOG_DIR/etcd.log" >&2; exit 1; }
  fi

  if ! is_running kube-apiserver; then
    start_apiserver
  fi
  wait_for kube-apiserver 90 apiserver_ready || { tail -30 "$VK_LOG_DIR/kube-apiserver.log" >&2; exit 1; }

  if ! is_running kube-scheduler; then
    start_bg kube-scheduler "$VK_BIN_DIR/kube-scheduler" --kubeconfig "$VK_ENV_DIR/scheduler.kubeconfig" \
      --authentication-kubeconfig "$VK_ENV_DIR/scheduler.kubeconfig" \
      --authorization-kubeconfig "$VK_ENV_DIR/scheduler.kubeconfig" \
      --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false
  fi
  if ! is_running kube-controller-manager; then
    start_bg kube-controller-manager "$VK_BIN_DIR/kube-controller-manager" \
      --kubeconfig "$VK_ENV_DIR/controller-manager.kubeconfig" \
      --authentication-kubeconfig "$VK_ENV_DIR/controller-manager.kubeconfig" \
      --authorization-kubeconfig "$VK_ENV_DIR/controller-manager.kubeconfig" \
      --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
      --service-account-private-key-file "$P/sa.key" --root-ca-file "$P/ca.crt" \
      --cluster-signing-cert-file "$P/ca.crt" --cluster-signing-key-file "$P/ca.key" \
      --use-service-account-credentials
  fi
  # The default service account must exist before pods can be created in a namespace.
  wait_for "default service account" 60 "$VK_BIN_DIR/kubectl" --kubeconfig "$VK_KUBECONFIG" get serviceaccount default
  log "control plane $VK_K8S_VERSION up at $server (kubeconfig $VK_KUBECONFIG)"
}

# Separate so that tests can restart the API server alone.
start_apiserver() {
  start_bg kube-apiserver "$VK_BIN_DIR/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$VK_ETCD_PORT" \
    --bind-address 0.0.0.0 --advertise-address 127.0.0.1 --secure-port "$VK_APISERVER_PORT" \
    --endpoint-reconciler-type none \
    --tls-cert-file "$P/apiserver.crt" --tls-private-key-file "$P/apiserver.key" \
    --client-ca-file "$P/ca.crt" \
    --service-account-key-file "$P/sa.pub" --service-account-signing-key-file "$P/sa.key" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-cluster-ip-range 10.96.0.0/16 \
    --authorization-mode Node,RBAC \
    --allow-privileged=true \
    --kubelet-client-certificate "$P/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$P/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP,ExternalIP,Hostname \
    --requestheader-client-ca-file "$P/front-proxy-ca.crt" \
    --requestheader-allowed-names front-proxy-client \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --requestheader-group-headers X-Remote-Group \
    --requestheader-username-headers X-Remote-User \
    --proxy-client-cert-file "$P/front-proxy-client.crt" --proxy-client-key-file "$P/front-proxy-client.key" \
    --enable-aggregator-routing=true \
    --feature-gates ContainerStopSignals=true
}

stop-apiserver() { stop_bg kube-apiserver; }

start-apiserver() {
  is_running kube-apiserver || start_apiserver
  wait_for kube-apiserver 90 apiserver_ready
  # The scheduler and the controller-manager would sit in their watch back-off for a while after an
  # API server restart; restarting them puts the cluster back at once for whatever test runs next.
  stop_bg kube-scheduler
  stop_bg kube-controller-manager
  up
}

restart-apiserver() {
  stop-apiserver
  start-apiserver
}

down() {
  stop_bg kube-controller-manager
  stop_bg kube-scheduler
  stop_bg kube-apiserver
  stop_bg etcd
}

"${1:-up}"
