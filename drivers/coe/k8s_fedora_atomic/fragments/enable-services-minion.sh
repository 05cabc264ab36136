#!/bin/sh
# Start docker and kubelet (reference 5.6 step 12). docker restarts without
# its default bridge, so that docker0 comes back on this host's pod subnet.
set -e
systemctl daemon-reload
systemctl stop docker.service 2>/dev/null || true
ip link del docker0 2>/dev/null || true
for service in docker kubelet; do
    systemctl enable "$service.service"
    systemctl --no-block start "$service.service"
done
