#!/usr/bin/env bash
# metrics-server (built by build-metrics-server.sh) running as a pod on a virtual node, so that
# `kubectl top` works through the real aggregation layer. Usage:
#   metrics-server.sh up NODE   imports the image, applies the objects, waits until the metrics API serves
#   metrics-server.sh down      removes them again (the APIService first)
# Both are idempotent. The pod VM reaches the kubelet at the node's InternalIP (vic-kubelet must run with
# --node-ip on the VCH bridge and listen there) and the API server through a TCP relay on the bridge
# address, since the test API server listens on loopback only. The API server reaches metrics-server at
# its pod IP (--enable-aggregator-routing).
source "$(dirname "$0")/lib.sh"

src=$VK_ROOT/test/env/metrics-server
version=$(awk '$1 == "sigs.k8s.io/metrics-server" { print $2 }' "$src/go.mod")
binary=$VK_CACHE_DIR/bin/metrics-server-$version/metrics-server
image=vic-test/metrics-server:$version
bridge_ip=${VK_DOCKER_BRIDGE_CIDR%/*}
relay_port=${VK_METRICS_SERVER_RELAY_PORT:-16444}
relay=metrics-server-apiserver-relay
kubectl_() { "$VK_BIN_DIR/kubectl" --kubeconfig "$VK_KUBECONFIG" "$@"; }

# The image: the static binary, the entrypoint and busybox's sh for it, /etc/passwd, /etc/group, /tmp.
# A label holds a hash of the contents, so a rebuilt binary or a changed entrypoint is imported again.
import_image() {
  local hash
  hash=$(cat "$binary" "$src/entrypoint.sh" | sha256sum | cut -c1-16)
  if [[ $(docker_cli image inspect -f '{{index .Config.Labels "vic-test.hash"}}' "$image" 2>/dev/null) == "$hash" ]]; then
    return 0
  fi
  local work=$VK_ENV_DIR/images/metrics-server
  rm -rf "$work" && mkdir -p "$work/rootfs"/{bin,etc,tmp}
  chmod 1777 "$work/rootfs/tmp"
  printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$work/rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$work/rootfs/etc/group"
  cp /bin/busybox "$work/rootfs/bin/busybox" && ln -s busybox "$work/rootfs/bin/sh"
  cp "$binary" "$work/rootfs/metrics-server"
  install -m 0755 "$src/entrypoint.sh" "$work/rootfs/entrypoint.sh"
  tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
  docker_cli import --change 'ENTRYPOINT ["/entrypoint.sh"]' --change "LABEL vic-test.hash=$hash" \
    "$work/rootfs.tar" "$image" >/dev/null
  rm -rf "$work"
  log "imported $image"
}

# A plain TCP relay from the bridge address to the API server on loopback (TLS stays end to end).
start_relay() {
  is_running "$relay" && return 0
  start_bg "$relay" node -e '
    const net = require("node:net");
    const [port, host, target] = process.argv.slice(1);
    net.createServer((c) => {
      const u = net.connect(Number(target), "127.0.0.1");
      c.pipe(u).pipe(c);
      c.on("error", () => u.destroy());
      u.on("error", () => c.destroy());
    }).listen(Number(port), host);' "$relay_port" "$bridge_ip" "$VK_APISERVER_PORT"
  wait_for "API server relay on $bridge_ip:$relay_port" 15 \
    curl -sk -o /dev/null "https://$bridge_ip:$relay_port/readyz" || { cat "$VK_LOG_DIR/$relay.log" >&2; exit 1; }
}

token_ready() { [[ -n $(kubectl_ -n kube-system get secret metrics-server-token -o 'jsonpath={.data.token}') ]]; }

up() {
  local node=${1:?usage: metrics-server.sh up NODE}
  bash "$VK_ROOT/test/env/build-metrics-server.sh"
  import_image
  start_relay
  # The service account and its long-lived token Secret, filled in by the token controller.
  kubectl_ apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: metrics-server, namespace: kube-system, labels: {k8s-app: metrics-server}}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: metrics-server-token
  namespace: kube-system
  labels: {k8s-app: metrics-server}
  annotations: {kubernetes.io/service-account.name: metrics-server}
YAML
  wait_for "the metrics-server token" 30 token_ready
  # As metrics-server's own manifests (manifests/base), but for the pod VM: no volumes or probes
  # (vic-kubelet has neither yet), the API server's address and the token as env (see entrypoint.sh).
  kubectl_ apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:aggregated-metrics-reader
  labels:
    k8s-app: metrics-server
    rbac.authorization.k8s.io/aggregate-to-view: "true"
    rbac.authorization.k8s.io/aggregate-to-edit: "true"
    rbac.authorization.k8s.io/aggregate-to-admin: "true"
rules:
- apiGroups: [metrics.k8s.io]
  resources: [pods, nodes]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:metrics-server", labels: {k8s-app: metrics-server}}
rules:
- apiGroups: [""]
  resources: [nodes/metrics]
  verbs: [get]
- apiGroups: [""]
  resources: [pods, nodes]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:metrics-server", labels: {k8s-app: metrics-server}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:metrics-server"}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "metrics-server:system:auth-delegator", labels: {k8s-app: metrics-server}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:auth-delegator"}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: metrics-server-auth-reader, namespace: kube-system, labels: {k8s-app: metrics-server}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
---
apiVersion: v1
kind: Service
metadata: {name: metrics-server, namespace: kube-system, labels: {k8s-app: metrics-server}}
spec:
  selector: {k8s-app: metrics-server}
  ports: [{name: https, port: 443, protocol: TCP, targetPort: https, appProtocol: https}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: metrics-server, namespace: kube-system, labels: {k8s-app: metrics-server}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: metrics-server}}
  strategy: {rollingUpdate: {maxUnavailable: 0}}
  template:
    metadata: {labels: {k8s-app: metrics-server}}
    spec:
      serviceAccountName: metrics-server
      automountServiceAccountToken: false
      priorityClassName: system-cluster-critical
      nodeSelector: {kubernetes.io/hostname: "$node"}
      tolerations: [{key: virtual-kubelet.io/provider, operator: Exists}]
      terminationGracePeriodSeconds: 5
      containers:
      - name: metrics-server
        image: $image
        imagePullPolicy: IfNotPresent
        args:
        - --cert-dir=/tmp
        - --secure-port=4443
        - --kubelet-preferred-address-types=InternalIP
        - --kubelet-use-node-status-port
        - --kubelet-insecure-tls
        - --metric-resolution=15s
        - --node-selector=kubernetes.io/hostname=$node
        env:
        - {name: KUBERNETES_SERVICE_HOST, value: "$bridge_ip"}
        - {name: KUBERNETES_SERVICE_PORT, value: "$relay_port"}
        - name: SA_TOKEN
          valueFrom: {secretKeyRef: {name: metrics-server-token, key: token}}
        - name: SA_CA_CRT
          valueFrom: {secretKeyRef: {name: metrics-server-token, key: ca.crt}}
        ports: [{name: https, containerPort: 4443, protocol: TCP}]
        resources:
          requests: {cpu: 100m, memory: 200Mi}
YAML
  if ! kubectl_ -n kube-system rollout status deployment/metrics-server --timeout 120s >&2; then
    kubectl_ -n kube-system get pods -l k8s-app=metrics-server -o wide >&2 || true
    exit 1
  fi
  # Registered last, once a backend runs: an unavailable aggregated API disturbs discovery cluster-wide.
  kubectl_ apply -f - >/dev/null <<YAML
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io, labels: {k8s-app: metrics-server}}
spec:
  service: {name: metrics-server, namespace: kube-system, port: 443}
  group: metrics.k8s.io
  version: v1beta1
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: 100
YAML
  if ! kubectl_ wait apiservice/v1beta1.metrics.k8s.io --for condition=Available --timeout 120s >&2; then
    kubectl_ get apiservice v1beta1.metrics.k8s.io -o yaml >&2 || true
    exit 1
  fi
  log "metrics-server $version serving the metrics API from node $node"
}

down() {
  kubectl_ delete apiservice v1beta1.metrics.k8s.io --ignore-not-found >/dev/null
  kubectl_ -n kube-system delete deployment metrics-server --ignore-not-found --cascade foreground \
    --timeout 60s >/dev/null || true
  # A pod whose node is gone never finishes terminating.
  kubectl_ -n kube-system delete pods -l k8s-app=metrics-server --ignore-not-found --grace-period 0 \
    --force >/dev/null 2>&1 || true
  kubectl_ -n kube-system delete service,secret,serviceaccount,rolebinding -l k8s-app=metrics-server \
    --ignore-not-found >/dev/null
  kubectl_ delete clusterrolebinding,clusterrole -l k8s-app=metrics-server --ignore-not-found >/dev/null
  stop_bg "$relay"
  log "metrics-server removed"
}

case ${1:-} in
  up) up "${@:2}" ;;
  down) down ;;
  *) echo "usage: $0 up NODE | down" >&2; exit 2 ;;
esac
