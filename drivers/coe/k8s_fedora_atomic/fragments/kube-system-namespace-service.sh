#!/bin/sh
# Create the kube-system namespace once the local API answers (older
# kubernetes releases do not create it themselves).
set -e

CREATE=/usr/local/bin/kube-system-namespace
cat > "$CREATE" <<'EOF'
#!/bin/sh
until curl -sf http://127.0.0.1:8080/healthz >/dev/null; do
    echo "kube-system-namespace: waiting for kube-apiserver"
    sleep 5
done
if ! curl -sf http://127.0.0.1:8080/api/v1/namespaces/kube-system >/dev/null; then
    curl -sf -X POST -H 'Content-Type: application/json' \
        -d '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}' \
        http://127.0.0.1:8080/api/v1/namespaces >/dev/null
fi
EOF
chmod 0755 "$CREATE"

cat > /etc/systemd/system/kube-system-namespace.service <<EOF
[Unit]
Description=Create the kube-system namespace
After=kube-apiserver.service
Requires=kube-apiserver.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=$CREATE

[Install]
WantedBy=multi-user.target
EOF

systemctl daemon-reload
systemctl enable kube-system-namespace.service
systemctl --no-block start kube-system-namespace.service
