#!/usr/bin/env bash
# Installs everything the project and its tests use on a fresh machine of this kind: Debian packages,
# npm dependencies and the Go-built control plane. Idempotent: a second run only checks.
source "$(dirname "$0")/lib.sh"

debs=(docker.io busybox-static docker-registry apache2-utils openssl curl gcc libc6-dev iptables iproute2 procps)
missing=()
for d in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q 'install ok installed' || missing+=("$d")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v go >/dev/null || { log "Go is required to build the control plane"; exit 1; }
command -v node >/dev/null || { log "Node.js 20 is required"; exit 1; }

cd "$VK_ROOT"
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund
fi

# The control plane is for tests and for `npm start` without a cluster of one's own.
[[ -n ${VK_SKIP_CONTROLPLANE:-} ]] || bash "$VK_ROOT/test/env/build-controlplane.sh"
# metrics-server, for the `kubectl top` tests (it runs as a pod on a virtual node: test/env/metrics-server.sh).
[[ -n ${VK_SKIP_CONTROLPLANE:-} ]] || bash "$VK_ROOT/test/env/build-metrics-server.sh"
