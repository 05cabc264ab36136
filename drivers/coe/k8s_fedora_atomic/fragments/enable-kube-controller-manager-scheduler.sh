#!/bin/sh
# kube-controller-manager and kube-scheduler on every master; leader election
# keeps one of each active.
set -e
systemctl daemon-reload
for service in kube-controller-manager kube-scheduler; do
    systemctl enable "$service.service"
    systemctl --no-block restart "$service.service"
done
