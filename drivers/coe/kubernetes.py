"""What every kubernetes driver shares (fedora-atomic now, coreos next).

Ports and addresses (Magnum 3.2: https://<ip>:6443, or http://<ip>:8080 with
TLS off), the security groups, the certificates each role gets, and the
kubeconfigs: the one ``bay-config`` writes and the one nodes use.
"""

import yaml

from bayflow.drivers import rules, tls
from bayflow.drivers.coe.base import CoeDriver
from bayflow.validation import LABEL_DEFAULTS

SECURE_PORT = 6443
INSECURE_PORT = 8080
ETCD_PORTS = (2379, 2380)
KUBELET_PORT = 10250
NODE_PORTS = (30000, 32767)
SSH_PORT = 22
CERT_DIR = '/srv/kubernetes'
API_DNS_NAMES = ('kubernetes', 'kubernetes.default', 'kubernetes.default.svc')


def api_port(baymodel):
    return INSECURE_PORT if baymodel.get('tls_disabled') else SECURE_PORT


def kubeconfig(name, server, ca_file=None, cert_file=None, key_file=None, user=None):
    """A kubeconfig (YAML) with one cluster, user and context, as python-magnumclient
    wrote it: context ``default/<name>``, file paths for the TLS material."""
    user = user or name
    cluster = {'server': server}
    credentials = {}
    if ca_file:
        cluster = {'certificate-authority': ca_file, 'server': server}
    if cert_file:
        credentials = {'client-certificate': cert_file, 'client-key': key_file}
    document = {
        'apiVersion': 'v1',
        'clusters': [{'cluster': cluster, 'name': name}],
        'contexts': [{'context': {'cluster': name, 'user': user}, 'name': f'default/{name}'}],
        'current-context': f'default/{name}',
        'kind': 'Config',
        'preferences': {},
        'users': [{'name': user, 'user': credentials}],
    }
    return yaml.dump(document, Dumper=getattr(yaml, 'CSafeDumper', yaml.SafeDumper),
                     default_flow_style=False, sort_keys=False)


class KubernetesDriver(CoeDriver):
    coe = 'kubernetes'

    def coe_rules(self, baymodel, labels):
        """Masters: the API to everyone, etcd to the bay. Nodes: NodePorts to
        everyone, everything from the bay's own servers (Magnum 8.0-9.0: pods
        and services reach each other across nodes; the masters reach the kubelets)."""
        rule = rules.rule
        base = [rule('icmp'), rule('tcp', SSH_PORT)]
        master = base + [
            rule('tcp', api_port(baymodel)),
            rule('tcp', *ETCD_PORTS, remote_role='master'),
            rule('tcp', ETCD_PORTS[0], remote_role='node'),
        ]
        node = base + [rule('tcp', *NODE_PORTS)]
        for remote in self.role_names:
            node += [rule('tcp', remote_role=remote), rule('udp', remote_role=remote)]
        return {'master': master, 'node': node}

    def api_address(self, baymodel, master):
        scheme = 'http' if baymodel.get('tls_disabled') else 'https'
        return f'{scheme}://{self.public_ip(baymodel, master)}:{api_port(baymodel)}'

    # -- certificates -------------------------------------------------------------
    def shares_service_account_key(self, bay, baymodel):
        """Service-account tokens one master signs, every master checks: with
        several masters they share one key; a single one makes its own."""
        return not baymodel.get('tls_disabled') and int(bay.get('master_count') or 1) > 1

    def server_certificate(self, context):
        """A master's API server certificate: its own addresses, master 0's (the
        API endpoint without a load balancer), the service IP and the in-cluster names."""
        labels = context['labels']
        service_range = labels.get('service_cluster_ip_range') or \
            LABEL_DEFAULTS['service_cluster_ip_range']
        domain = labels.get('dns_cluster_domain') or LABEL_DEFAULTS['dns_cluster_domain']
        master0 = context['masters'][0]
        ips = [context['fixed_ip'], context.get('floating_ip'), master0['fixed_ip'],
               master0.get('floating_ip'), tls.service_ip(service_range), '127.0.0.1']
        names = [*API_DNS_NAMES, f'kubernetes.default.svc.{domain}', 'localhost']
        return tls.issue_server_cert(context['ca'], context['server_name'], ips,
                                     [context['server_name'], *names])

    def node_certificate(self, context):
        """A node's client certificate: user ``system:node:<name>`` in group
        ``system:nodes``, what kubernetes' node authorizer expects of a kubelet."""
        return tls.issue_client_cert(context['ca'], cn=f'system:node:{context["server_name"]}',
                                     organization='system:nodes')

    def node_kubeconfig(self, context):
        """The kubeconfig kubelet and kube-proxy use on a node (internal API address)."""
        tls_on = not context['baymodel'].get('tls_disabled')
        scheme = 'https' if tls_on else 'http'
        server = (f'{scheme}://{context["masters"][0]["fixed_ip"]}:'
                  f'{api_port(context["baymodel"])}')
        files = {}
        if tls_on:
            files = {'ca_file': f'{CERT_DIR}/ca.crt', 'cert_file': f'{CERT_DIR}/client.crt',
                     'key_file': f'{CERT_DIR}/client.key'}
        return kubeconfig(context['bay'].get('name') or context['bay']['uuid'], server,
                          user='kubelet', **files)

    # -- bay-config ---------------------------------------------------------------------
    def bay_config(self, bay, baymodel, ca=None, client=None):
        """``ca.pem``, ``cert.pem``, ``key.pem`` and ``config`` (the kubeconfig),
        as ``magnum bay-config`` wrote them; only ``config`` with TLS off.

        ``ca``: the bay CA, ``{'cert'[, 'key']}`` or the certificate PEM.
        ``client``: ``{'cert', 'key'}`` to hand out; None issues a fresh
        ``admin``/``system:masters`` certificate, which needs the CA key.
        """
        name = bay.get('name') or bay['uuid']
        server = bay.get('api_address')
        if not server:
            raise tls.CertificateError(f'bay {name} has no api_address yet: bay-config '
                                       f'needs a bay in CREATE_COMPLETE or UPDATE_COMPLETE')
        if baymodel.get('tls_disabled'):
            return {'config': kubeconfig(name, server)}
        ca_cert = ca if isinstance(ca, str) else (ca or {}).get('cert')
        if not ca_cert:
            raise tls.CertificateError(f'bay {name}: bay-config needs the bay CA '
                                       f'certificate (TLS is on)')
        if client is None:
            client = tls.issue_client_cert(ca)
        return tls.PrivateFiles({
            'ca.pem': ca_cert,
            'cert.pem': client['cert'],
            'key.pem': client['key'],
            'config': kubeconfig(name, server, 'ca.pem', 'cert.pem', 'key.pem'),
        })
