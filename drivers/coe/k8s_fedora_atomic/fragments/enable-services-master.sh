#!/bin/sh
# Start the master's services (reference 5.5 step 10).
set -e
systemctl daemon-reload
for service in etcd docker kube-apiserver kubelet; do
    systemctl enable "$service.service"
    systemctl --no-block restart "$service.service"
done
