# Shared settings of the test environment. Sourced by the other scripts; every path and port is here.
# Runtime state (sockets, data, certificates, logs, PIDs) lives in VK_ENV_DIR inside the checkout;
# built binaries live in VK_CACHE_DIR under the home folder so that a fresh clone reuses them.
set -euo pipefail

VK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export VK_ROOT
export VK_ENV_DIR=${VK_ENV_DIR:-$VK_ROOT/.cache/env}
export VK_CACHE_DIR=${VK_CACHE_DIR:-$HOME/.cache/vic-kubelet}
export VK_K8S_VERSION=${VK_K8S_VERSION:-v1.37.2}
export VK_BIN_DIR=$VK_CACHE_DIR/bin/$VK_K8S_VERSION
export VK_PKI_DIR=$VK_ENV_DIR/pki
export VK_LOG_DIR=$VK_ENV_DIR/logs
export VK_PID_DIR=$VK_ENV_DIR/pids

# The VCH: a private dockerd unless DOCKER_HOST already names one.
export VK_DOCKER_DIR=${VK_DOCKER_DIR:-/var/tmp/vic-kubelet-docker}
export VK_DOCKER_SOCK=$VK_DOCKER_DIR/docker.sock
export VK_DOCKER_BRIDGE=${VK_DOCKER_BRIDGE:-vk-br0}
# A /20 (172.31.240.0-172.31.255.255, about 4,000 pod VMs): the bench's 500-pod bursts need more than a
# /24's 250 addresses. The bridge keeps its address, which the API server's certificate names.
export VK_DOCKER_BRIDGE_CIDR=${VK_DOCKER_BRIDGE_CIDR:-172.31.254.1/20}

export VK_ETCD_PORT=${VK_ETCD_PORT:-23790}
export VK_APISERVER_PORT=${VK_APISERVER_PORT:-16443}
export VK_REGISTRY_PORT=${VK_REGISTRY_PORT:-15000}
export VK_REGISTRY=127.0.0.1:$VK_REGISTRY_PORT
export VK_REGISTRY_USER=${VK_REGISTRY_USER:-vic}
export VK_REGISTRY_PASSWORD=${VK_REGISTRY_PASSWORD:-vic-test-password}

export VK_KUBECONFIG=$VK_ENV_DIR/admin.kubeconfig
export VK_BUSYBOX_IMAGE=vic-test/busybox:latest
export VK_PAUSE_IMAGE=vic-test/pause:latest

mkdir -p "$VK_ENV_DIR" "$VK_LOG_DIR" "$VK_PID_DIR" "$VK_CACHE_DIR"

log() { printf '[env] %s\n' "$*" >&2; }

# start_bg NAME CMD...: start a process in the background, record its PID, log to VK_LOG_DIR/NAME.log.
start_bg() {
  local name=$1
  shift
  setsid "$@" >"$VK_LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! >"$VK_PID_DIR/$name.pid"
}

# is_running NAME: the process we recorded under NAME is alive.
is_running() {
  local pidfile=$VK_PID_DIR/$1.pid
  [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# stop_bg NAME: stop only what we started, politely first.
stop_bg() {
  local pidfile=$VK_PID_DIR/$1.pid
  [[ -f $pidfile ]] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# wait_for DESCRIPTION SECONDS CMD...: poll until CMD succeeds.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${seconds}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

# ensure_bridge NAME CIDR: a Linux bridge of our own. Docker's default "docker0" is deleted by any
# other dockerd started with --bridge=none on the same host, so the test engines never use it.
ensure_bridge() {
  local name=$1 cidr=$2
  ip link show "$name" >/dev/null 2>&1 || ip link add "$name" type bridge
  if ! ip -4 addr show dev "$name" | grep -q "inet $cidr "; then
    # A bridge left from an older configuration (another prefix) takes the one asked now.
    ip addr flush dev "$name"
    ip addr add "$cidr" dev "$name"
  fi
  ip link set "$name" up
}

docker_cli() { docker -H "${DOCKER_HOST:-unix://$VK_DOCKER_SOCK}" "$@"; }
