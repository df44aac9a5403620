#!/usr/bin/env bash
# Stops everything up.sh started (only processes it recorded), newest first.
source "$(dirname "$0")/lib.sh"
here=$VK_ROOT/test/env
bash "$here/controlplane.sh" down
bash "$here/registry.sh" down
bash "$here/docker.sh" down
log "environment stopped"
