#!/bin/sh
# kubelet and kube-proxy on a node, pointed at master 0's API through the
# kubeconfig written by write-kubeconfig.sh (client certificate with TLS).
set -e
. /etc/sysconfig/heat-params

if [ "$TLS_DISABLED" = "True" ]; then
    KUBE_MASTER_URL="http://$KUBE_MASTER_IP:$KUBE_API_PORT"
else
    KUBE_MASTER_URL="https://$KUBE_MASTER_IP:$KUBE_API_PORT"
fi
KUBECONFIG=/etc/kubernetes/kubeconfig.yaml

cat > /etc/kubernetes/config <<EOF
KUBE_LOGTOSTDERR="--logtostderr=true"
KUBE_LOG_LEVEL="--v=0"
KUBE_ALLOW_PRIV="--allow-privileged=$KUBE_ALLOW_PRIV"
KUBE_MASTER="--master=$KUBE_MASTER_URL"
EOF

mkdir -p /etc/kubernetes/manifests
cat > /etc/kubernetes/kubelet <<EOF
KUBELET_ADDRESS="--address=0.0.0.0"
KUBELET_HOSTNAME="--hostname-override=$KUBE_NODE_NAME"
KUBELET_API_SERVER="--api-servers=$KUBE_MASTER_URL"
KUBELET_ARGS="--kubeconfig=$KUBECONFIG --config=/etc/kubernetes/manifests --cadvisor-port=4194"
EOF

cat > /etc/kubernetes/proxy <<EOF
KUBE_PROXY_ARGS="--kubeconfig=$KUBECONFIG"
EOF

# The node name is the server name: make it resolve to the fixed IP, which is
# the address the masters reach the kubelet on.
if ! grep -q " $KUBE_NODE_NAME\$" /etc/hosts; then
    echo "$KUBE_NODE_IP $KUBE_NODE_NAME" >> /etc/hosts
fi
echo "KUBERNETES_MASTER=$KUBE_MASTER_URL" >> /etc/environment
