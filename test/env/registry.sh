#!/usr/bin/env bash
# A real image registry on loopback (Debian's docker-registry, distribution 2.8) with htpasswd auth,
# holding the busybox image under a second name so pulls and imagePullSecrets are testable.
# Usage: registry.sh up|down.
source "$(dirname "$0")/lib.sh"

REG_DIR=$VK_ENV_DIR/registry
export VK_REGISTRY_BUSYBOX=$VK_REGISTRY/vic/busybox:latest

registry_ready() { curl -fsS -o /dev/null -u "$VK_REGISTRY_USER:$VK_REGISTRY_PASSWORD" "http://$VK_REGISTRY/v2/"; }

up() {
  mkdir -p "$REG_DIR/data"
  if ! is_running registry; then
    htpasswd -Bbn "$VK_REGISTRY_USER" "$VK_REGISTRY_PASSWORD" >"$REG_DIR/htpasswd"
    cat >"$REG_DIR/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
http:
  addr: $VK_REGISTRY
auth:
  htpasswd:
    realm: vic-kubelet-test
    path: $REG_DIR/htpasswd
YAML
    start_bg registry docker-registry serve "$REG_DIR/config.yml"
  fi
  wait_for "registry" 30 registry_ready || { tail -20 "$VK_LOG_DIR/registry.log" >&2; exit 1; }
  # Push with a throw-away client config so no credentials land in the home folder.
  local cfg=$REG_DIR/docker-config
  mkdir -p "$cfg"
  if ! docker_cli --config "$cfg" manifest inspect --insecure "$VK_REGISTRY_BUSYBOX" >/dev/null 2>&1; then
    echo "$VK_REGISTRY_PASSWORD" | docker_cli --config "$cfg" login -u "$VK_REGISTRY_USER" --password-stdin "$VK_REGISTRY" >/dev/null 2>&1
    docker_cli tag "$VK_BUSYBOX_IMAGE" "$VK_REGISTRY_BUSYBOX"
    docker_cli --config "$cfg" push "$VK_REGISTRY_BUSYBOX" >/dev/null
    docker_cli --config "$cfg" logout "$VK_REGISTRY" >/dev/null
    # Drop the local tag so tests really pull it.
    docker_cli rmi "$VK_REGISTRY_BUSYBOX" >/dev/null
  fi
  log "registry up on $VK_REGISTRY with $VK_REGISTRY_BUSYBOX"
}

down() { stop_bg registry; }

"${1:-up}"
