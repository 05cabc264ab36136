"""Each server's cloud-init document: MIME parts in reference order, real addresses, TLS files."""

import email
import ipaddress
import shlex
import subprocess

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from bayflow.drivers import coe, tls
from bayflow.drivers.coe import base
from bayflow.drivers.userdata import UserDataError

from tests.unit.drivers.conftest import BAY_UUID, make_bay, make_baymodel, make_context

# Reference 5.5 and 5.6, in Magnum's order, as this driver keeps them.
MASTER_PARTS = [
    'disable-selinux.sh', 'write-heat-params-master.yaml', 'configure-etcd.sh', 'make-cert.sh',
    'configure-docker-storage.sh', 'configure-kubernetes-master.sh', 'add-proxy.sh',
    'enable-services-master.sh', 'write-network-config.sh', 'network-config-service.sh',
    'network-service.sh', 'kube-system-namespace-service.sh',
    'enable-kube-controller-manager-scheduler.sh', 'enable-kube-proxy-master.sh']
NODE_PARTS = [
    'disable-selinux.sh', 'write-heat-params.yaml', 'write-kubeconfig.sh',
    'make-cert-client.sh', 'configure-docker-storage.sh', 'configure-kubernetes-minion.sh',
    'network-service.sh', 'add-proxy.sh', 'enable-services-minion.sh',
    'enable-kube-proxy-minion.sh']


@pytest.fixture(scope='module')
def k8s():
    return coe.get_driver('kubernetes', 'fedora-atomic')


def parts_of(document):
    """[(filename without its sequence prefix, content type, text)] in document order."""
    message = email.message_from_string(document)
    assert message.is_multipart() and message.get_content_type() == 'multipart/mixed'
    out = []
    for number, part in enumerate(message.get_payload(), 1):
        name = part.get_filename()
        if part.get_content_type() == 'text/x-shellscript':
            assert name.startswith(f'{number:02d}-'), name
            name = name[3:]
        out.append((name, part.get_content_type(), part.get_payload(decode=True).decode()))
    return out


def params_of(parts):
    """The /etc/sysconfig/heat-params values, read the way sh reads them."""
    (text,) = [t for _, kind, t in parts if kind == 'text/cloud-config']
    (entry,) = yaml.safe_load(text)['write_files']
    assert entry['path'] == '/etc/sysconfig/heat-params'
    assert entry['permissions'] == '0600'
    values = {}
    for line in entry['content'].splitlines():
        name, value = line.split('=', 1)
        (values[name],) = shlex.split(value) or ['']
    return values


def heredoc(script, path):
    """The content a write_files_script writes to ``path``."""
    marker = f"cat > {path} <<'BAYFLOW_EOF'\n"
    start = script.index(marker) + len(marker)
    return script[start:script.index('\nBAYFLOW_EOF', start)] + '\n'


def script(parts, name):
    (text,) = [t for n, _, t in parts if n == name]
    return text


def test_master_parts_in_reference_order(k8s, ca):
    parts = parts_of(k8s.render_user_data('master', make_context('master', 0, ca)))
    assert [name for name, _, _ in parts] == MASTER_PARTS
    for name, kind, text in parts:
        assert kind == ('text/cloud-config' if name.endswith('.yaml') else 'text/x-shellscript')


def test_node_parts_in_reference_order(k8s, ca):
    parts = parts_of(k8s.render_user_data('node', make_context('node', 1, ca)))
    assert [name for name, _, _ in parts] == NODE_PARTS


def test_scripts_run_in_document_order(k8s, ca):
    """cloud-init runs scripts by sorted file name: the prefixes keep the order."""
    message = email.message_from_string(
        k8s.render_user_data('master', make_context('master', 0, ca)))
    names = [p.get_filename() for p in message.get_payload()
             if p.get_content_type() == 'text/x-shellscript']
    assert names == sorted(names)


@pytest.mark.parametrize('role', ['master', 'node'])
@pytest.mark.parametrize('tls_disabled', [False, True])
def test_every_script_is_valid_shell(k8s, ca, role, tls_disabled):
    context = make_context(role, 0, ca, make_baymodel(tls_disabled=tls_disabled))
    for name, kind, text in parts_of(k8s.render_user_data(role, context)):
        if kind == 'text/x-shellscript':
            assert text.startswith('#!/bin/sh\n'), name
            for shell in ('dash', 'bash'):
                result = subprocess.run([shell, '-n'], input=text, capture_output=True,
                                        text=True)
                assert result.returncode == 0, (name, shell, result.stderr)


def test_master_params_hold_the_real_addresses(k8s, ca):
    baymodel = make_baymodel(labels={'flannel_backend': 'vxlan'}, http_proxy='http://proxy:3128',
                             no_proxy='localhost,127.0.0.1, .example.com')
    parts = parts_of(k8s.render_user_data('master', make_context('master', 1, ca, baymodel)))
    params = params_of(parts)
    assert params['KUBE_API_PUBLIC_ADDRESS'] == '172.24.4.10'       # master 0: the API
    assert params['KUBE_API_PRIVATE_ADDRESS'] == '10.0.0.3'
    assert params['KUBE_API_PORT'] == '6443'
    assert params['KUBE_NODE_IP'] == '10.0.0.4'                       # this server
    assert params['KUBE_NODE_PUBLIC_IP'] == '172.24.4.11'
    assert params['KUBE_NODE_NAME'] == f'bf-{BAY_UUID}-master-1'
    assert params['ETCD_INITIAL_CLUSTER'] == (
        f'bf-{BAY_UUID}-master-0=http://10.0.0.3:2380,bf-{BAY_UUID}-master-1=http://10.0.0.4:2380')
    assert params['ETCD_DISCOVERY_URL'] == ''
    assert params['NUMBER_OF_MASTERS'] == '2'
    assert params['DOCKER_VOLUME'] == '/dev/vdb'
    assert params['NETWORK_DRIVER'] == 'flannel'
    assert (params['FLANNEL_NETWORK_CIDR'], params['FLANNEL_NETWORK_SUBNETLEN'],
            params['FLANNEL_BACKEND']) == ('10.100.0.0/16', '24', 'vxlan')
    assert params['PORTAL_NETWORK_CIDR'] == '10.254.0.0/16'
    assert params['CLUSTER_SUBNET'] == '10.0.0.0/24'
    assert params['TLS_DISABLED'] == 'False'
    assert params['BAY_UUID'] == '5d12f6fd-a196-4bf0-ae4c-1f639a523a52'
    assert params['HTTP_PROXY'] == 'http://proxy:3128'
    assert params['NO_PROXY'] == 'localhost,127.0.0.1, .example.com'


def test_node_params_point_at_master_zero(k8s, ca):
    bay_context = make_context('node', 2, ca, docker_volume='0c1f95a2-ff7c-4a3c-b4f9-b53e5b3c7f3e')
    bay_context['bay']['discovery_url'] = 'https://discovery.etcd.io/abc'
    params = params_of(parts_of(k8s.render_user_data('node', bay_context)))
    assert params['KUBE_MASTER_IP'] == params['ETCD_SERVER_IP'] == '10.0.0.3'
    assert params['KUBE_NODE_IP'] == '10.0.0.12'
    assert params['FLANNEL_ETCD_ENDPOINT'] == 'http://10.0.0.3:2379'
    assert params['DOCKER_VOLUME_ID'] == '0c1f95a2-ff7c-4a3c-b4f9-b53e5b3c7f3e'
    assert 'ETCD_DISCOVERY_URL' not in params


def test_params_file_is_read_back_verbatim_by_sh(k8s, ca, tmp_path):
    odd = "http://user:p'w@proxy:3128/$HOME;`id`"
    baymodel = make_baymodel(https_proxy=odd)
    parts = parts_of(k8s.render_user_data('node', make_context('node', 0, ca, baymodel)))
    params = params_of(parts)
    (text,) = [t for _, kind, t in parts if kind == 'text/cloud-config']
    path = tmp_path / 'heat-params'
    path.write_text(yaml.safe_load(text)['write_files'][0]['content'])
    shown = subprocess.run(['dash', '-c', f'. {path}; printf %s "$HTTPS_PROXY"'],
                           capture_output=True, text=True, check=True).stdout
    assert shown == odd == params['HTTPS_PROXY']


def test_flannel_network_json_is_on_masters_only(k8s, ca):
    baymodel = make_baymodel(labels={'flannel_backend': 'host-gw',
                                     'flannel_network_cidr': '10.96.0.0/14',
                                     'flannel_network_subnetlen': '25'})
    master = parts_of(k8s.render_user_data('master', make_context('master', 0, ca, baymodel)))
    config = heredoc(script(master, 'write-network-config.sh'),
                     '/etc/sysconfig/flannel-network.json')
    assert yaml.safe_load(config) == {'Network': '10.96.0.0/14', 'SubnetLen': 25,
                                      'Backend': {'Type': 'host-gw'}}
    node = parts_of(k8s.render_user_data('node', make_context('node', 0, ca, baymodel)))
    assert not any('flannel-network.json' in t for n, _, t in node
                   if n != 'network-service.sh')


def _san(cert):
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return ({str(ip) for ip in ext.get_values_for_type(x509.IPAddress)},
            set(ext.get_values_for_type(x509.DNSName)))


def test_master_gets_the_api_server_certificate(k8s, ca):
    baymodel = make_baymodel(labels={'service_cluster_ip_range': '10.32.0.0/16'})
    parts = parts_of(k8s.render_user_data('master', make_context('master', 1, ca, baymodel)))
    make_cert = script(parts, 'make-cert.sh')
    assert heredoc(make_cert, '/srv/kubernetes/ca.crt') == ca['cert']
    cert = x509.load_pem_x509_certificate(
        heredoc(make_cert, '/srv/kubernetes/server.crt').encode())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca['cert'].encode()))
    ips, names = _san(cert)
    assert {'10.0.0.4', '172.24.4.11', '10.0.0.3', '172.24.4.10', '10.32.0.1'} <= ips
    assert {'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
            'kubernetes.default.svc.cluster.local', f'bf-{BAY_UUID}-master-1'} <= names
    assert 'BEGIN PRIVATE KEY' in heredoc(make_cert, '/srv/kubernetes/server.key')
    assert 'chmod 0600 /srv/kubernetes/server.key' in make_cert
    assert ca['key'] not in make_cert                      # the CA key stays home


def test_a_single_master_makes_its_service_account_key_at_boot(k8s, ca):
    """RSA (kubernetes before 1.6 takes no other), made on the master: the
    private key is in no user_data and no database."""
    context = make_context('master', 0, ca, bay=make_bay(master_count=1))
    parts = parts_of(k8s.render_user_data('master', context))
    make_cert = script(parts, 'make-cert.sh')
    assert "cat > /srv/kubernetes/service-account.key" not in make_cert
    assert 'openssl genrsa -out /srv/kubernetes/service-account.key 2048' in make_cert
    assert 'chmod 0400 /srv/kubernetes/server.key /srv/kubernetes/service-account.key' \
        in make_cert
    configure = script(parts, 'configure-kubernetes-master.sh')
    assert '--service-account-key-file=$CERT_DIR/service-account.key' in configure
    assert '--service-account-private-key-file=$CERT_DIR/service-account.key' in configure


def test_masters_of_one_bay_share_its_service_account_key(k8s, ca):
    """One master signs a token, any master checks it: one key for them all."""
    shared = dict(ca, service_account_key=tls.service_account_key())
    keys = set()
    for index in (0, 1):
        make_cert = script(parts_of(k8s.render_user_data(
            'master', make_context('master', index, shared))), 'make-cert.sh')
        keys.add(heredoc(make_cert, '/srv/kubernetes/service-account.key'))
        assert 'openssl genrsa' not in make_cert
    assert keys == {shared['service_account_key']}


def test_the_ca_step_makes_the_shared_key_only_for_several_masters(monkeypatch):
    from bayflow.flows.tasks import coe as coe_tasks
    monkeypatch.setattr(tls, 'encrypt_key', lambda pem: 'encrypted:' + pem[:30])
    step = coe_tasks.CreateCA('create-ca')
    baymodel = make_baymodel()
    assert 'service_account_key' not in step.execute(make_bay(master_count=1), baymodel)
    made = step.execute(make_bay(master_count=3), baymodel)
    assert made['service_account_key'].startswith('encrypted:-----BEGIN PRIVATE KEY')
    assert step.execute(make_bay(master_count=3), make_baymodel(tls_disabled=True)) is None


def test_node_gets_a_client_certificate_and_kubeconfig(k8s, ca):
    parts = parts_of(k8s.render_user_data('node', make_context('node', 1, ca)))
    client = script(parts, 'make-cert-client.sh')
    cert = x509.load_pem_x509_certificate(
        heredoc(client, '/srv/kubernetes/client.crt').encode())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca['cert'].encode()))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == \
        f'system:node:bf-{BAY_UUID}-node-1'
    kubeconfig = yaml.safe_load(heredoc(script(parts, 'write-kubeconfig.sh'),
                                        '/etc/kubernetes/kubeconfig.yaml'))
    cluster = kubeconfig['clusters'][0]['cluster']
    assert cluster == {'certificate-authority': '/srv/kubernetes/ca.crt',
                       'server': 'https://10.0.0.3:6443'}
    assert kubeconfig['users'][0]['user']['client-key'] == '/srv/kubernetes/client.key'
    assert ca['key'] not in client


@pytest.mark.parametrize('role', ['master', 'node'])
def test_tls_disabled_writes_no_key(k8s, role):
    baymodel = make_baymodel(tls_disabled=True)
    document = k8s.render_user_data(role, make_context(role, 0, None, baymodel))
    parts = parts_of(document)
    assert 'PRIVATE KEY' not in document
    assert not any(name.startswith('make-cert') for name, _, _ in parts)
    assert params_of(parts)['TLS_DISABLED'] == 'True'
    assert params_of(parts)['KUBE_API_PORT'] == '8080'
    if role == 'node':
        kubeconfig = yaml.safe_load(heredoc(script(parts, 'write-kubeconfig.sh'),
                                            '/etc/kubernetes/kubeconfig.yaml'))
        assert kubeconfig['clusters'][0]['cluster'] == {'server': 'http://10.0.0.3:8080'}


def test_user_data_fits_nova(k8s, ca):
    baymodel = make_baymodel(http_proxy='http://' + 'p' * 240, https_proxy='http://' + 'q' * 240,
                             no_proxy='n' * 255)
    for role in ('master', 'node'):
        document = k8s.render_user_data(role, make_context(role, 0, ca, baymodel))
        assert len(document) < 40000


def test_too_large_user_data_is_refused(k8s, ca, monkeypatch):
    monkeypatch.setattr(base, 'NOVA_USER_DATA_LIMIT', 1000)
    with pytest.raises(UserDataError, match='at most 1000'):
        k8s.render_user_data('node', make_context('node', 0, ca))


def test_missing_context_is_named(k8s, ca):
    context = make_context('node', 0, None)
    del context['fixed_ip']
    with pytest.raises(UserDataError) as caught:
        k8s.render_user_data('node', context)
    assert 'fixed_ip' in str(caught.value) and "ca {'cert', 'key'}" in str(caught.value)
    with pytest.raises(UserDataError, match=r"masters\[0\]"):
        k8s.render_user_data('master', make_context('master', 0, ca, masters=[]))
    with pytest.raises(UserDataError, match="role 'minion'"):
        k8s.render_user_data('minion', make_context('node', 0, ca))


def test_ca_without_key_is_refused(k8s, ca):
    with pytest.raises(UserDataError, match='TLS is on'):
        k8s.render_user_data('master', make_context('master', 0, {'cert': ca['cert']}))


def test_rendered_addresses_are_ip_addresses(k8s, ca):
    params = params_of(parts_of(k8s.render_user_data('master', make_context('master', 0, ca))))
    for name in ('KUBE_API_PUBLIC_ADDRESS', 'KUBE_API_PRIVATE_ADDRESS', 'KUBE_NODE_IP'):
        ipaddress.ip_address(params[name])


def test_a_master_floating_ip_defaults_from_the_masters_list(k8s, ca):
    context = make_context('master', 1, ca)
    del context['floating_ip']
    params = params_of(parts_of(k8s.render_user_data('master', context)))
    assert params['KUBE_NODE_PUBLIC_IP'] == '172.24.4.11'


def test_network_driver_defaults_to_the_coe_default(k8s, ca):
    baymodel = make_baymodel(network_driver=None)
    params = params_of(parts_of(k8s.render_user_data('node', make_context('node', 0, ca,
                                                                          baymodel))))
    assert params['NETWORK_DRIVER'] == 'flannel'
