#!/usr/bin/env bash
# Prints the environment variables that describe the running test environment, as shell exports.
source "$(dirname "$0")/lib.sh"
# The machine's older kubectl clients (kubectl.1.27 ...) live beside its own kubectl.
versions_dir=$(dirname "$(readlink -f "$(command -v kubectl.1.27 || command -v kubectl || echo /usr/bin/kubectl)")")
cat <<ENV
export VK_KUBECTL_VERSIONS_DIR=$versions_dir
export KUBECONFIG=$VK_KUBECONFIG
export DOCKER_HOST=${DOCKER_HOST:-unix://$VK_DOCKER_SOCK}
export VK_ENV_DIR=$VK_ENV_DIR
export VK_BIN_DIR=$VK_BIN_DIR
export VK_PKI_DIR=$VK_PKI_DIR
export VK_REGISTRY=$VK_REGISTRY
export VK_REGISTRY_USER=$VK_REGISTRY_USER
export VK_REGISTRY_PASSWORD=$VK_REGISTRY_PASSWORD
export VK_BUSYBOX_IMAGE=$VK_BUSYBOX_IMAGE
export VK_PAUSE_IMAGE=$VK_PAUSE_IMAGE
# The API server as a pod VM reaches it: the test VCH bridge address (its serving cert names it).
export VK_APISERVER_POD_ADDRESS=${VK_DOCKER_BRIDGE_CIDR%/*}:$VK_APISERVER_PORT
export PATH=$VK_BIN_DIR:\$PATH
ENV
