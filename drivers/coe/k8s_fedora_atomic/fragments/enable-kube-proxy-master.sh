#!/bin/sh
# kube-proxy on the masters too, so the API server reaches services.
set -e
systemctl enable kube-proxy.service
systemctl --no-block restart kube-proxy.service
