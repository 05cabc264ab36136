#!/bin/sh
# kube-proxy on the node, configured by configure-kubernetes-minion.sh.
set -e
systemctl enable kube-proxy.service
systemctl --no-block restart kube-proxy.service
