"""bay-config's files: what ``magnum bay-config`` wrote for a kubernetes bay."""

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from bayflow.drivers import coe, tls

from tests.unit.drivers.conftest import make_bay, make_baymodel


@pytest.fixture
def k8s():
    return coe.get_driver('kubernetes', 'fedora-atomic')


def test_tls_files_and_kubeconfig(k8s, ca):
    files = k8s.bay_config(make_bay(), make_baymodel(), ca)
    assert set(files) == {'ca.pem', 'cert.pem', 'key.pem', 'config'}
    assert files['ca.pem'] == ca['cert']
    cert = x509.load_pem_x509_certificate(files['cert.pem'].encode())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca['cert'].encode()))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == 'admin'
    key = serialization.load_pem_private_key(files['key.pem'].encode(), password=None)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()
    config = yaml.safe_load(files['config'])
    assert config['kind'] == 'Config' and config['apiVersion'] == 'v1'
    assert config['clusters'] == [{'cluster': {'certificate-authority': 'ca.pem',
                                               'server': 'https://172.24.4.10:6443'},
                                   'name': 'k8sbay'}]
    assert config['users'] == [{'name': 'k8sbay', 'user': {'client-certificate': 'cert.pem',
                                                          'client-key': 'key.pem'}}]
    assert config['current-context'] == 'default/k8sbay'
    assert config['contexts'] == [{'context': {'cluster': 'k8sbay', 'user': 'k8sbay'},
                                   'name': 'default/k8sbay'}]


def test_a_given_client_cert_is_handed_out(k8s, ca):
    client = tls.issue_client_cert(ca, cn='alice', organization='devs')
    files = k8s.bay_config(make_bay(), make_baymodel(), {'cert': ca['cert']}, client)
    assert (files['cert.pem'], files['key.pem']) == (client['cert'], client['key'])
    assert k8s.bay_config(make_bay(), make_baymodel(), ca['cert'], client)['ca.pem'] == \
        ca['cert']


def test_tls_disabled_gives_only_the_kubeconfig(k8s):
    bay = make_bay(api_address='http://172.24.4.10:8080', name=None)
    files = k8s.bay_config(bay, make_baymodel(tls_disabled=True))
    assert list(files) == ['config']
    config = yaml.safe_load(files['config'])
    name = bay['uuid']
    assert config['clusters'] == [{'cluster': {'server': 'http://172.24.4.10:8080'},
                                   'name': name}]
    assert config['users'] == [{'name': name, 'user': {}}]


def test_errors(k8s, ca):
    with pytest.raises(tls.CertificateError, match='no api_address'):
        k8s.bay_config(make_bay(api_address=None), make_baymodel(), ca)
    with pytest.raises(tls.CertificateError, match='CA certificate'):
        k8s.bay_config(make_bay(), make_baymodel(), None)
