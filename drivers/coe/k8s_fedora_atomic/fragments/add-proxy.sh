#!/bin/sh
# The baymodel's proxies, for docker's image pulls and for login shells.
. /etc/sysconfig/heat-params

if [ -z "$HTTP_PROXY" ] && [ -z "$HTTPS_PROXY" ]; then
    exit 0
fi

DOCKER_DROPIN=/etc/systemd/system/docker.service.d/proxy.conf
PROFILE=/etc/profile.d/bayflow-proxy.sh
mkdir -p /etc/systemd/system/docker.service.d
echo "[Service]" > "$DOCKER_DROPIN"
: > "$PROFILE"
for name in HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    eval "value=\$$name"
    if [ -n "$value" ]; then
        lower=$(echo "$name" | tr 'A-Z' 'a-z')
        echo "Environment=\"$name=$value\"" >> "$DOCKER_DROPIN"
        echo "export $lower=\"$value\" $name=\"$value\"" >> "$PROFILE"
    fi
done

systemctl daemon-reload
if systemctl -q is-active docker.service; then
    systemctl --no-block restart docker.service
fi
