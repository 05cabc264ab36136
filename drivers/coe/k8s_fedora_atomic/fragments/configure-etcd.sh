#!/bin/sh
# etcd on every master: clients on all addresses (the security group admits
# only the bay's servers), peers on the private address. Members find each
# other through the discovery URL, or else from the static member list of the
# masters' fixed IPs.
set -e
. /etc/sysconfig/heat-params

cat > /etc/etcd/etcd.conf <<EOF
ETCD_NAME="$KUBE_NODE_NAME"
ETCD_DATA_DIR="/var/lib/etcd/default.etcd"
ETCD_LISTEN_CLIENT_URLS="http://0.0.0.0:2379"
ETCD_LISTEN_PEER_URLS="http://$KUBE_NODE_IP:2380"
ETCD_ADVERTISE_CLIENT_URLS="http://$KUBE_NODE_IP:2379"
ETCD_INITIAL_ADVERTISE_PEER_URLS="http://$KUBE_NODE_IP:2380"
EOF

if [ -n "$ETCD_DISCOVERY_URL" ]; then
    echo "ETCD_DISCOVERY=\"$ETCD_DISCOVERY_URL\"" >> /etc/etcd/etcd.conf
    if [ -n "$HTTPS_PROXY" ]; then
        echo "ETCD_DISCOVERY_PROXY=\"$HTTPS_PROXY\"" >> /etc/etcd/etcd.conf
    elif [ -n "$HTTP_PROXY" ]; then
        echo "ETCD_DISCOVERY_PROXY=\"$HTTP_PROXY\"" >> /etc/etcd/etcd.conf
    fi
else
    cat >> /etc/etcd/etcd.conf <<EOF
ETCD_INITIAL_CLUSTER="$ETCD_INITIAL_CLUSTER"
ETCD_INITIAL_CLUSTER_STATE="new"
ETCD_INITIAL_CLUSTER_TOKEN="$BAY_UUID"
EOF
fi
