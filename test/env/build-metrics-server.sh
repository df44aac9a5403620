#!/usr/bin/env bash
# Builds metrics-server (version from metrics-server/go.mod) as a static binary (CGO_ENABLED=0, so it
# runs in a pod VM with a bare rootfs) into VK_METRICS_SERVER_BIN_DIR. A stamp of the module files
# makes a second run a no-op; the Go build cache in the home folder makes rebuilds quick.
source "$(dirname "$0")/lib.sh"

src=$VK_ROOT/test/env/metrics-server
version=$(awk '$1 == "sigs.k8s.io/metrics-server" { print $2 }' "$src/go.mod")
out=$VK_CACHE_DIR/bin/metrics-server-$version
stamp=$out/.stamp
want=$(cat "$0" "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" && -x $out/metrics-server ]]; then
  exit 0
fi
log "building metrics-server $version (cold: a few minutes on 2 cores)"
mkdir -p "$out"
# Stamp the version as metrics-server's own Makefile does.
ldflags="-s -w -X k8s.io/client-go/pkg/version.gitVersion=$version"
ldflags+=" -X k8s.io/client-go/pkg/version.buildDate=1970-01-01T00:00:00Z"
(cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/metrics-server" .)
echo "$want" >"$stamp"
log "metrics-server built into $out"
