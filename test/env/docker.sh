#!/usr/bin/env bash
# The VCH of the tests: a real Docker engine (Debian's docker.io) on a private socket and data folder.
# Usage: docker.sh up|down. With DOCKER_HOST set, that engine is used and nothing is started.
source "$(dirname "$0")/lib.sh"

up() {
  if [[ -n ${DOCKER_HOST:-} ]]; then
    log "using DOCKER_HOST=$DOCKER_HOST"
    return 0
  fi
  if is_running dockerd && docker_cli version >/dev/null 2>&1; then
    log "dockerd already running on $VK_DOCKER_SOCK"
    return 0
  fi
  mkdir -p "$VK_DOCKER_DIR"
  # The pod VM network is a bridge of our own, on its own subnet, never docker0 (see ensure_bridge).
  ensure_bridge "$VK_DOCKER_BRIDGE" "$VK_DOCKER_BRIDGE_CIDR"
  # Network namespaces left by an engine that did not stop cleanly (killed, or its machine reset): with
  # the network database gone (below), dockerd never removes them, and each keeps its address on the
  # bridge. A new pod VM given the same address was then unreachable: the dead namespace answered every
  # connection with a reset. Nothing runs while dockerd is down, so every one of them is stale.
  release_stale_netns "$VK_DOCKER_DIR/exec/netns"
  # dockerd keeps its default network in this database and would bring back a bridge from an older
  # configuration; nothing runs while dockerd is down, so the network state can start afresh.
  rm -f "$VK_DOCKER_DIR/root/network/files/local-kv.db"
  start_bg dockerd dockerd \
    -H "unix://$VK_DOCKER_SOCK" \
    --data-root "$VK_DOCKER_DIR/root" \
    --exec-root "$VK_DOCKER_DIR/exec" \
    --pidfile "$VK_DOCKER_DIR/dockerd.pid" \
    --storage-driver overlay2 \
    --bridge "$VK_DOCKER_BRIDGE"
  wait_for "dockerd" 60 docker_cli version || { tail -20 "$VK_LOG_DIR/dockerd.log" >&2; exit 1; }
  log "dockerd up on unix://$VK_DOCKER_SOCK"
}

down() { stop_bg dockerd; }

release_stale_netns() {
  local dir=$1 ns released=0
  [[ -d $dir ]] || return 0
  for ns in "$dir"/*; do
    [[ -e $ns ]] || continue
    umount "$ns" 2>/dev/null || umount -l "$ns" 2>/dev/null || true
    rm -f "$ns" && released=$((released + 1))
  done
  if ((released > 0)); then log "released $released network namespaces left by an engine that did not stop"; fi
}

"${1:-up}"
