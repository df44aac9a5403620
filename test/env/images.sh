#!/usr/bin/env bash
# Local images without an image registry: busybox (Debian's busybox-static) and a pause image for
# pod sandboxes (a static C binary built here), imported through the Docker API.
source "$(dirname "$0")/lib.sh"

have_image() { docker_cli image inspect "$1" >/dev/null 2>&1; }

make_rootfs() {
  local rootfs=$1
  rm -rf "$rootfs"
  mkdir -p "$rootfs"/{bin,etc,tmp,root,proc,sys,dev,var/tmp}
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
}

import_busybox() {
  have_image "$VK_BUSYBOX_IMAGE" && return 0
  local work=$VK_ENV_DIR/images/busybox
  make_rootfs "$work/rootfs"
  cp /bin/busybox "$work/rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$work/rootfs/bin/$applet"
  done
  mkdir -p "$work/rootfs/usr" && ln -sfn ../bin "$work/rootfs/usr/bin" && ln -sfn bin "$work/rootfs/sbin"
  tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
  docker_cli import --change 'CMD ["sh"]' --change 'ENV PATH=/bin:/usr/bin:/sbin' "$work/rootfs.tar" "$VK_BUSYBOX_IMAGE" >/dev/null
  log "imported $VK_BUSYBOX_IMAGE"
}

import_pause() {
  have_image "$VK_PAUSE_IMAGE" && return 0
  local work=$VK_ENV_DIR/images/pause
  make_rootfs "$work/rootfs"
  gcc -O2 -static -o "$work/rootfs/pause" "$VK_ROOT/test/env/pause/pause.c"
  tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
  docker_cli import --change 'ENTRYPOINT ["/pause"]' "$work/rootfs.tar" "$VK_PAUSE_IMAGE" >/dev/null
  log "imported $VK_PAUSE_IMAGE"
}

import_busybox
import_pause
