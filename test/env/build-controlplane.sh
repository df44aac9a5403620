#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-scheduler, kube-controller-manager and kubectl from the
# k8s.io/kubernetes Go module (version in controlplane/go.mod) into VK_BIN_DIR. A stamp of the
# module files makes a second run a no-op; the Go build cache in the home folder makes rebuilds quick.
source "$(dirname "$0")/lib.sh"

src=$VK_ROOT/test/env/controlplane
stamp=$VK_BIN_DIR/.stamp
want=$(cat "$0" "$src/go.mod" "$src/go.sum" "$src"/cmd/*/main.go | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi
log "building the control plane $VK_K8S_VERSION (cold: several minutes on 2 cores)"
mkdir -p "$VK_BIN_DIR"
# Stamp the version as Kubernetes' own build does, so clients and servers report v1.N.M.
minor=$(echo "$VK_K8S_VERSION" | cut -d. -f2)
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$VK_K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
(cd "$src" && go build -tags providerless -ldflags "$ldflags" -o "$VK_BIN_DIR/" ./cmd/...)
echo "$want" >"$stamp"
log "control plane built into $VK_BIN_DIR"
