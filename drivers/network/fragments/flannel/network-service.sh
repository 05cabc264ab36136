#!/bin/sh
# Every host: flanneld leases this host's pod subnet from etcd, then a oneshot
# unit hands it to docker (--bip/--mtu) before docker starts, so docker0 sits
# on the flannel subnet.
set -e
. /etc/sysconfig/heat-params

# Both spellings of flanneld's settings: FLANNEL_ETCD/FLANNEL_ETCD_KEY (flannel
# before 0.7) and FLANNEL_ETCD_ENDPOINTS/FLANNEL_ETCD_PREFIX (0.7 and later).
cat > /etc/sysconfig/flanneld <<EOF
FLANNEL_ETCD="$FLANNEL_ETCD_ENDPOINT"
FLANNEL_ETCD_ENDPOINTS="$FLANNEL_ETCD_ENDPOINT"
FLANNEL_ETCD_KEY="$FLANNEL_ETCD_PREFIX"
FLANNEL_ETCD_PREFIX="$FLANNEL_ETCD_PREFIX"
FLANNEL_OPTIONS="-iface=$FLANNEL_IFACE"
EOF

BRIDGE=/usr/local/bin/flannel-docker-bridge
cat > "$BRIDGE" <<'EOF'
#!/bin/sh
# Started with /run/flannel/subnet.env (written by flanneld) as its environment.
if [ -z "$FLANNEL_SUBNET" ] || [ -z "$FLANNEL_MTU" ]; then
    echo "flannel-docker-bridge: flanneld has not leased a subnet yet" >&2
    exit 1
fi
mkdir -p /run/flannel
echo "DOCKER_NETWORK_OPTIONS=\"--bip=$FLANNEL_SUBNET --mtu=$FLANNEL_MTU\"" > /run/flannel/docker
EOF
chmod 0755 "$BRIDGE"

cat > /etc/systemd/system/flannel-docker-bridge.service <<EOF
[Unit]
Description=Give docker the flannel subnet of this host
Requires=flanneld.service
After=flanneld.service
Before=docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
EnvironmentFile=/run/flannel/subnet.env
ExecStart=$BRIDGE

[Install]
WantedBy=docker.service
EOF

mkdir -p /etc/systemd/system/docker.service.d
cat > /etc/systemd/system/docker.service.d/flannel.conf <<EOF
[Unit]
Requires=flannel-docker-bridge.service
After=flannel-docker-bridge.service

[Service]
EnvironmentFile=/run/flannel/docker
EOF
chmod 0644 /etc/systemd/system/flannel-docker-bridge.service \
    /etc/systemd/system/docker.service.d/flannel.conf

systemctl daemon-reload
systemctl enable flanneld.service flannel-docker-bridge.service
systemctl --no-block start flanneld.service

# A docker already running kept its default bridge: drop docker0 and restart
# it behind flanneld so the bridge comes back on the flannel subnet.
if systemctl -q is-active docker.service; then
    systemctl stop docker.service
    ip link del docker0 2>/dev/null || true
    systemctl --no-block start docker.service
fi
