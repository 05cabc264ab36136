#!/bin/sh
# Masters: publish the flannel network config to etcd (etcd v2 keys API) from a
# oneshot unit that retries until the local etcd answers. flanneld on every
# host waits for this key before it leases a subnet.
set -e
. /etc/sysconfig/heat-params

PUBLISH=/usr/local/bin/flannel-config
UNIT=/etc/systemd/system/flannel-config.service
KEY_URL="$FLANNEL_ETCD_ENDPOINT/v2/keys$FLANNEL_ETCD_PREFIX/config"

cat > "$PUBLISH" <<EOF
#!/bin/sh
if [ ! -s /etc/sysconfig/flannel-network.json ]; then
    echo "flannel-config: /etc/sysconfig/flannel-network.json is missing" >&2
    exit 1
fi
until curl -sf -X PUT --data-urlencode value@/etc/sysconfig/flannel-network.json \\
        "$KEY_URL" >/dev/null; do
    echo "flannel-config: waiting for etcd at $FLANNEL_ETCD_ENDPOINT"
    sleep 1
done
echo "flannel-config: network config stored at $KEY_URL"
EOF
chmod 0755 "$PUBLISH"

cat > "$UNIT" <<EOF
[Unit]
Description=Store the flannel network config in etcd
Requires=etcd.service
After=etcd.service
Before=flanneld.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=$PUBLISH

[Install]
WantedBy=multi-user.target
EOF
chmod 0644 "$UNIT"

systemctl daemon-reload
systemctl enable flannel-config.service
systemctl --no-block start flannel-config.service
