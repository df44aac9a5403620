#!/usr/bin/env bash
# npm start: the embedded try-out. Brings up what is missing (a private dockerd as the VCH unless
# DOCKER_HOST names one; a local control plane unless KUBECONFIG names a cluster), runs vic-kubelet in
# the foreground as a virtual node, runs a sample Deployment on it and prints what to try next.
# Ctrl-C stops what this script started, and nothing that was already running.
# Extra arguments go to vic-kubelet (npm start -- --node-labels zone=a).
#
# Knobs (environment): VK_NODE_NAME (vic-local), VK_KUBELET_PORT (10250), VK_SAMPLE=0 (no sample),
# VK_METRICS=0 (no metrics-server), and every variable of test/env/lib.sh (VK_ENV_DIR, ports, ...).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
given_kubeconfig=${KUBECONFIG:-}
given_docker_host=${DOCKER_HOST:-}
# lib.sh: paths, ports, is_running, stop_bg, log (it only defines things and creates folders).
source "$root/test/env/lib.sh"
env_dir=$root/test/env
node_name=${VK_NODE_NAME:-vic-local}
kubelet_port=${VK_KUBELET_PORT:-10250}
started=()   # what this run started, stopped again on exit
kubelet_pid=
metrics_pid=

say() { printf '\033[1m[start]\033[0m %s\n' "$*" >&2; }

# run_step TITLE LOGFILE CMD...: runs a step quietly into LOGFILE, printing the elapsed time every
# 10 s so a slow first run (the control plane build takes minutes) shows it is alive.
run_step() {
  local title=$1 logfile=$2
  shift 2
  local begin=$SECONDS
  "$@" >"$logfile" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    local spent=$((SECONDS - begin))
    if ((spent > 0 && spent % 10 == 0)); then
      # The step's own last line says where it is (e.g. "[env] installing npm dependencies").
      say "  … $title: ${spent}s: $(grep -a '\[env\]' "$logfile" | tail -1 | cut -c1-100) (log: $logfile)"
    fi
  done
  if ! wait "$pid"; then
    say "$title failed; the end of $logfile:"
    tail -20 "$logfile" >&2
    exit 1
  fi
  if ((SECONDS - begin >= 2)); then say "  $title: done in $((SECONDS - begin))s"; fi
}

cleanup() {
  trap - INT TERM EXIT
  say "stopping what this run started${started[*]:+: ${started[*]}}"
  [[ -n $metrics_pid ]] && kill "$metrics_pid" 2>/dev/null || true
  if [[ -n $kubelet_pid ]] && kill -0 "$kubelet_pid" 2>/dev/null; then
    kill -TERM "$kubelet_pid" 2>/dev/null || true
    wait "$kubelet_pid" 2>/dev/null || true
  fi
  local i item
  # Newest first: the relay and the control plane before the engine.
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    item=${started[i]}
    case $item in
      metrics-relay) stop_bg metrics-server-apiserver-relay ;;
      controlplane) bash "$env_dir/controlplane.sh" down ;;
      dockerd) bash "$env_dir/docker.sh" down ;;
    esac
  done
  say "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "checking what this machine needs (first run: Debian packages, npm packages, control plane build)"
if [[ -z $given_kubeconfig ]]; then
  say "no KUBECONFIG: a local control plane (built once from the k8s.io/kubernetes Go module: minutes on a first run)"
  run_step "install" "$VK_LOG_DIR/install.log" bash "$env_dir/install.sh"
else
  run_step "install" "$VK_LOG_DIR/install.log" env VK_SKIP_CONTROLPLANE=1 bash "$env_dir/install.sh"
fi

args=()
if [[ -z $given_docker_host ]]; then
  is_running dockerd || started+=(dockerd)
  run_step "VCH (dockerd on $VK_DOCKER_SOCK)" "$VK_LOG_DIR/start-docker.log" bash "$env_dir/docker.sh" up
  run_step "local images" "$VK_LOG_DIR/start-images.log" bash "$env_dir/images.sh"
  export DOCKER_HOST=unix://$VK_DOCKER_SOCK
  # The embedded VCH has no registry access: pod sandboxes use the locally built pause image, and
  # the kubelet API listens on the VCH bridge so that pod VMs (metrics-server) reach it.
  bridge_ip=${VK_DOCKER_BRIDGE_CIDR%/*}
  args+=(--sandbox-image "$VK_PAUSE_IMAGE" --node-ip "$bridge_ip" --address "$bridge_ip")
  sample_image=$VK_BUSYBOX_IMAGE
else
  say "VCH: DOCKER_HOST=$given_docker_host"
  sample_image=${VK_SAMPLE_IMAGE:-busybox:1.36}
fi

if [[ -z $given_kubeconfig ]]; then
  is_running kube-apiserver || started+=(controlplane)
  run_step "local control plane $VK_K8S_VERSION" "$VK_LOG_DIR/start-controlplane.log" bash "$env_dir/controlplane.sh" up
  export KUBECONFIG=$VK_KUBECONFIG
  # The local API server reaches the kubelet API with a client certificate of its CA.
  args+=(--client-ca-file "$VK_PKI_DIR/ca.crt")
  [[ -n ${bridge_ip:-} ]] || args+=(--node-ip 127.0.0.1)
fi
kubectl_bin=$(command -v kubectl || true)
[[ -x $VK_BIN_DIR/kubectl ]] && kubectl_bin=$VK_BIN_DIR/kubectl
kubectl_() { "$kubectl_bin" "$@"; }

# Compile only when a source is newer than the build.
entry=$root/dist/src/cli/vic-kubelet.js
if [[ ! -f $entry ]] || [[ -n $(find src package.json tsconfig.build.json -newer "$entry" -print -quit) ]]; then
  run_step "build vic-kubelet" "$VK_LOG_DIR/build.log" npm run --silent build
fi

say "starting vic-kubelet as node $node_name (Ctrl-C stops it)"
# A Node left by an earlier run may still read Ready: only a heartbeat from this run counts.
started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
node "$entry" --node-name "$node_name" --port "$kubelet_port" "${args[@]}" "$@" &
kubelet_pid=$!

begin=$SECONDS
ready_since_start() {
  local ready
  ready=$(kubectl_ get node "$node_name" \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}' 2>/dev/null) || return 1
  [[ ${ready%% *} == True && ! ${ready#* } < $started_at ]]
}
until ready_since_start; do
  kill -0 "$kubelet_pid" 2>/dev/null || { say "vic-kubelet exited"; exit 1; }
  if ((SECONDS - begin > 120)); then say "node $node_name not Ready after 120s"; exit 1; fi
  sleep 0.5
done
say "node $node_name is Ready ($((SECONDS - begin))s)"

if [[ ${VK_SAMPLE:-1} != 0 ]]; then
  kubectl_ apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello, namespace: default, labels: {app: hello}}
spec:
  replicas: 1
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      nodeSelector: {kubernetes.io/hostname: $node_name}
      tolerations: [{key: virtual-kubelet.io/provider, operator: Exists}]
      terminationGracePeriodSeconds: 5
      containers:
      - name: hello
        image: $sample_image
        imagePullPolicy: IfNotPresent
        command: [sh, -c]
        args:
        - |
          mkdir -p /tmp/www && echo "hello from \$HOSTNAME, a pod VM on $node_name" >/tmp/www/index.html
          (while true; do echo "\$(date) hello is alive"; sleep 5; done) &
          exec httpd -f -v -p 8080 -h /tmp/www
        ports: [{containerPort: 8080}]
YAML
  if ! kubectl_ rollout status deployment/hello --timeout 120s >"$VK_LOG_DIR/sample.log" 2>&1; then
    say "the sample did not become ready:"
    kubectl_ get pods -l app=hello -o wide >&2 || true
    exit 1
  fi
  # The Deployment's status may be an earlier run's: a command run in the pod VM proves it runs now.
  until kubectl_ exec deploy/hello -- true >/dev/null 2>&1; do
    if ((SECONDS - begin > 180)); then say "cannot exec into the sample"; kubectl_ get pods -l app=hello -o wide >&2; exit 1; fi
    sleep 0.5
  done
  say "sample Deployment 'hello' is running on $node_name ($((SECONDS - begin))s after start)"
  # kubectl top needs metrics-server: it runs as a pod on this node (only with the local cluster and VCH).
  if [[ ${VK_METRICS:-1} != 0 && -z $given_kubeconfig && -n ${bridge_ip:-} ]]; then
    is_running metrics-server-apiserver-relay || started+=(metrics-relay)
    bash "$env_dir/metrics-server.sh" up "$node_name" >"$VK_LOG_DIR/start-metrics-server.log" 2>&1 &
    metrics_pid=$!
  fi
fi

cat >&2 <<TEXT

  $(printf '\033[1m')Try it$(printf '\033[0m') (in another terminal):
    export KUBECONFIG=$KUBECONFIG
    export PATH=$(dirname "$kubectl_bin"):\$PATH
    kubectl get nodes -o wide
    kubectl get pods -o wide
    kubectl logs -f deploy/hello
    kubectl exec -it deploy/hello -- sh
    kubectl port-forward deploy/hello 8080:8080   # then: curl http://127.0.0.1:8080/
    kubectl top node $node_name && kubectl top pod   # once metrics-server is up (about a minute)

  vic-kubelet's log follows; Ctrl-C stops it and what this run started.

TEXT
wait "$kubelet_pid"
