"""The (vm, fedora-atomic, kubernetes) driver: each server's cloud-init document.

The steps follow reference 5.5 (masters) and 5.6 (nodes) in Magnum's order.
Left out, on purpose: the OpenStack cloud-provider config and the wait-condition
signal (both need credentials on the servers; bayflow gives them none), the
default-user rename (kube-user) and the examples. The TLS material comes in
the document (make-cert*.sh) instead of being fetched from the Magnum API.
kube-controller-manager and kube-scheduler run as services with leader
election (Magnum's Newton step) instead of podmaster containers.
"""

from bayflow.drivers import userdata
from bayflow.drivers.coe import kubernetes
from bayflow.drivers.coe.k8s_fedora_atomic import params

CERT_DIR = kubernetes.CERT_DIR
NODE_KUBECONFIG = '/etc/kubernetes/kubeconfig.yaml'
SERVICE_ACCOUNT_KEY = f'{CERT_DIR}/service-account.key'
# A single master makes its service-account key (RSA: kubernetes before 1.6
# takes no other) at its first boot; it never leaves the master.
_MAKE_SERVICE_ACCOUNT_KEY = (f'if [ ! -s {SERVICE_ACCOUNT_KEY} ]; then\n'
                             f'    openssl genrsa -out {SERVICE_ACCOUNT_KEY} 2048\n'
                             f'fi\n')
# kube-apiserver and kube-controller-manager run as user kube and read the keys.
_KUBE_OWNS_KEYS = (f'chmod 0755 {CERT_DIR}\n'
                   f'if id kube >/dev/null 2>&1; then\n'
                   f'    chown kube:kube {CERT_DIR}/server.key {SERVICE_ACCOUNT_KEY}\n'
                   f'    chmod 0400 {CERT_DIR}/server.key {SERVICE_ACCOUNT_KEY}\n'
                   f'fi')


def _fragment(name):
    return name, userdata.fragment(__package__, name)


def _cert_files(context, name, pair):
    """The CA certificate and ``pair`` as <name>.crt/.key (key 0600) in CERT_DIR."""
    return [(f'{CERT_DIR}/ca.crt', context['ca']['cert'], '0644'),
            (f'{CERT_DIR}/{name}.crt', pair['cert'], '0644'),
            (f'{CERT_DIR}/{name}.key', pair['key'], '0600')]


def _master_cert_script(driver, context):
    """The API server's certificate and the service-account key: the bay's
    shared one when it has several masters, else one made here at boot."""
    files = _cert_files(context, 'server', driver.server_certificate(context))
    shared = context['ca'].get('service_account_key')
    if shared:
        files.append((SERVICE_ACCOUNT_KEY, shared, '0600'))
    return userdata.write_files_script(
        files, after=('' if shared else _MAKE_SERVICE_ACCOUNT_KEY) + _KUBE_OWNS_KEYS)


class Driver(kubernetes.KubernetesDriver):
    provides = (('vm', 'fedora-atomic', 'kubernetes'),)

    def user_data_parts(self, role, context):
        network = self.network_driver(context['baymodel'])
        if role == 'master':
            return self._master_parts(context, network)
        return self._node_parts(context, network)

    def _master_parts(self, ctx, network):
        parts = [_fragment('disable-selinux.sh'),
                 ('write-heat-params-master.yaml',
                  userdata.params_file(params.PATH, params.master(self, ctx, network))),
                 _fragment('configure-etcd.sh')]
        if not ctx['baymodel'].get('tls_disabled'):
            parts.append(('make-cert.sh', _master_cert_script(self, ctx)))
        parts += [_fragment('configure-docker-storage.sh'),
                  _fragment('configure-kubernetes-master.sh'),
                  _fragment('add-proxy.sh'),
                  _fragment('enable-services-master.sh'),
                  *network.user_data_parts('master', ctx),
                  _fragment('kube-system-namespace-service.sh'),
                  _fragment('enable-kube-controller-manager-scheduler.sh'),
                  _fragment('enable-kube-proxy-master.sh')]
        return parts

    def _node_parts(self, ctx, network):
        parts = [_fragment('disable-selinux.sh'),
                 ('write-heat-params.yaml',
                  userdata.params_file(params.PATH, params.node(self, ctx, network))),
                 ('write-kubeconfig.sh', userdata.write_files_script(
                     [(NODE_KUBECONFIG, self.node_kubeconfig(ctx), '0644')]))]
        if not ctx['baymodel'].get('tls_disabled'):
            parts.append(('make-cert-client.sh', userdata.write_files_script(
                _cert_files(ctx, 'client', self.node_certificate(ctx)),
                after=f'chmod 0755 {CERT_DIR}')))
        parts += [_fragment('configure-docker-storage.sh'),
                  _fragment('configure-kubernetes-minion.sh'),
                  *network.user_data_parts('node', ctx),
                  _fragment('add-proxy.sh'),
                  _fragment('enable-services-minion.sh'),
                  _fragment('enable-kube-proxy-minion.sh')]
        return parts
