#!/bin/sh
# docker's storage on the bay's volume: an LVM thin pool for devicemapper, an
# XFS filesystem on /var/lib/docker for overlay. The volume is found by its id
# (virtio disks carry the first 20 characters of the Cinder volume id as their
# serial), else taken as $DOCKER_VOLUME (/dev/vdb). It may be attached after
# boot, so wait for it; without one docker keeps its storage on the root disk.
. /etc/sysconfig/heat-params

if [ -z "$DOCKER_VOLUME" ]; then
    echo "configure-docker-storage: no docker volume, storage stays on the root disk"
    exit 0
fi
if [ -n "$DOCKER_VOLUME_ID" ]; then
    DEVICE="/dev/disk/by-id/virtio-$(echo "$DOCKER_VOLUME_ID" | cut -c1-20)"
else
    DEVICE="$DOCKER_VOLUME"
fi

tries=600
while [ ! -b "$DEVICE" ] && [ "$tries" -gt 0 ]; do
    udevadm settle --timeout=1 2>/dev/null || sleep 1
    tries=$((tries - 1))
done
if [ ! -b "$DEVICE" ]; then
    echo "configure-docker-storage: $DEVICE never appeared," \
         "storage stays on the root disk" >&2
    exit 0
fi
DEVICE=$(readlink -f "$DEVICE")

set -e
systemctl stop docker.service 2>/dev/null || true
if [ "$DOCKER_STORAGE_DRIVER" = "overlay" ]; then
    mkfs.xfs -f -n ftype=1 "$DEVICE"
    rm -rf /var/lib/docker/*
    echo "$DEVICE /var/lib/docker xfs defaults 0 0" >> /etc/fstab
    mount /var/lib/docker
    echo 'DOCKER_STORAGE_OPTIONS="--storage-driver overlay"' > /etc/sysconfig/docker-storage
else
    cat > /etc/sysconfig/docker-storage-setup <<EOF
DEVS="$DEVICE"
VG=docker
DATA_SIZE=95%FREE
EOF
    docker-storage-setup
fi
