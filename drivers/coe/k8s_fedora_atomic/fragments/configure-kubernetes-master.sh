#!/bin/sh
# kube-apiserver, kube-controller-manager, kube-scheduler and the master's
# kubelet, through the /etc/kubernetes files of Fedora's kubernetes packages.
# With TLS the API listens on $KUBE_API_PORT (6443) with the bay CA's
# certificates and keeps its insecure port (8080) on loopback for the local
# components; without TLS it serves $KUBE_API_PORT (8080) to everyone.
set -e
. /etc/sysconfig/heat-params

CERT_DIR=/srv/kubernetes
LOCAL_API=http://127.0.0.1:8080

if [ "$TLS_DISABLED" = "True" ]; then
    API_ADDRESS="--insecure-bind-address=0.0.0.0"
    API_PORT="--insecure-port=$KUBE_API_PORT --secure-port=0"
    API_TLS=""
    ADMISSION="NamespaceLifecycle,LimitRanger,ResourceQuota"
    CONTROLLER_TLS=""
else
    API_ADDRESS="--bind-address=0.0.0.0 --insecure-bind-address=127.0.0.1"
    API_PORT="--secure-port=$KUBE_API_PORT --insecure-port=8080"
    API_TLS="--tls-cert-file=$CERT_DIR/server.crt --tls-private-key-file=$CERT_DIR/server.key --client-ca-file=$CERT_DIR/ca.crt --service-account-key-file=$CERT_DIR/service-account.key"
    ADMISSION="NamespaceLifecycle,LimitRanger,ServiceAccount,ResourceQuota"
    CONTROLLER_TLS="--service-account-private-key-file=$CERT_DIR/service-account.key --root-ca-file=$CERT_DIR/ca.crt"
fi

cat > /etc/kubernetes/config <<EOF
KUBE_LOGTOSTDERR="--logtostderr=true"
KUBE_LOG_LEVEL="--v=0"
KUBE_ALLOW_PRIV="--allow-privileged=$KUBE_ALLOW_PRIV"
KUBE_MASTER="--master=$LOCAL_API"
EOF

cat > /etc/kubernetes/apiserver <<EOF
KUBE_API_ADDRESS="$API_ADDRESS"
KUBE_API_PORT="$API_PORT"
KUBE_ETCD_SERVERS="--etcd-servers=http://127.0.0.1:2379"
KUBE_SERVICE_ADDRESSES="--service-cluster-ip-range=$PORTAL_NETWORK_CIDR"
KUBE_ADMISSION_CONTROL="--admission-control=$ADMISSION"
KUBE_API_ARGS="--runtime-config=api/all=true --advertise-address=$KUBE_NODE_IP $API_TLS"
EOF

# More than one master: one controller-manager and one scheduler lead at a time.
cat > /etc/kubernetes/controller-manager <<EOF
KUBE_CONTROLLER_MANAGER_ARGS="--leader-elect=true $CONTROLLER_TLS"
EOF
cat > /etc/kubernetes/scheduler <<EOF
KUBE_SCHEDULER_ARGS="--leader-elect=true"
EOF

# The master's kubelet runs static pods from the manifests directory only.
mkdir -p /etc/kubernetes/manifests
cat > /etc/kubernetes/kubelet <<EOF
KUBELET_ADDRESS="--address=127.0.0.1"
KUBELET_HOSTNAME="--hostname-override=$KUBE_NODE_NAME"
KUBELET_API_SERVER="--api-servers=$LOCAL_API"
KUBELET_ARGS="--register-node=false --config=/etc/kubernetes/manifests"
EOF

echo "KUBERNETES_MASTER=$LOCAL_API" >> /etc/environment
