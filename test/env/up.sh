#!/usr/bin/env bash
# Brings up the whole test environment: the VCH (dockerd), local images, the registry and the
# control plane. Idempotent; prints the variables a shell or a test needs.
source "$(dirname "$0")/lib.sh"
here=$VK_ROOT/test/env
bash "$here/docker.sh" up
bash "$here/images.sh"
bash "$here/registry.sh" up
bash "$here/controlplane.sh" up
bash "$here/print-env.sh" >"$VK_ENV_DIR/env.sh"
log "environment ready: source $VK_ENV_DIR/env.sh"
