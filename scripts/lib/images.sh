#!/usr/bin/env bash
# Local systemd base images for the test and lab containers (no registry is reachable,
# so `docker pull` is not an option). An image is rebuilt only when it is missing or
# when this recipe changed: its hash is stored as an image label.
set -euo pipefail

DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
IMAGE_REPO=${IMAGE_REPO:-datatech-mlops/systemd-debian}
# Debian release number -> codename
declare -A CODENAMES=([12]=bookworm [13]=trixie)
PACKAGES=python3,systemd,systemd-sysv,sudo,ca-certificates,iproute2,procps

recipe_hash() {
  { cat "${BASH_SOURCE[0]}"; echo "$PACKAGES $DEBIAN_MIRROR"; } | sha256sum | cut -c1-16
}

build_image() {
  local release=$1 codename=${CODENAMES[$1]} image="$IMAGE_REPO:$1" hash current rootfs
  hash=$(recipe_hash)
  current=$(docker image inspect -f '{{ index .Config.Labels "datatech.recipe" }}' "$image" 2>/dev/null || true)
  if [[ "$current" == "$hash" ]]; then
    echo "image $image is up to date ($hash)"
    return 0
  fi
  echo "building $image from debootstrap $codename (recipe $hash)"
  rootfs=$(mktemp -d "/tmp/rootfs-$codename.XXXXXX")
  debootstrap --variant=minbase --include="$PACKAGES" "$codename" "$rootfs" "$DEBIAN_MIRROR" >"$rootfs.log" 2>&1 \
    || { tail -20 "$rootfs.log"; rm -rf "$rootfs"; return 1; }
  # Keep the image small and let systemd boot cleanly inside a container.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  : >"$rootfs/etc/machine-id"
  tar -C "$rootfs" -c . | docker import \
    -c 'CMD ["/lib/systemd/systemd"]' \
    -c 'ENV container=docker' \
    -c "LABEL datatech.recipe=$hash" - "$image" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
  echo "built $image"
}

releases=("$@")
((${#releases[@]})) || releases=(12 13)
for release in "${releases[@]}"; do
  build_image "$release"
done
