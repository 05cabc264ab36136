"""The bay CA, its certificates, the CA key at rest, and keys kept out of logs."""

import datetime
import logging
import os
import ssl
import stat

import pytest
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from oslo_config import cfg

from bayflow import config, log
from bayflow.drivers import coe, tls

from tests.unit.drivers.conftest import BAY_UUID, make_bay, make_baymodel, make_context


def load(pem):
    return x509.load_pem_x509_certificate(pem.encode())


def cn(cert):
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def key_matches(pair):
    key = serialization.load_pem_private_key(pair['key'].encode(), password=None)
    return key.public_key() == load(pair['cert']).public_key()


@pytest.fixture(scope='module')
def server(ca):
    return tls.issue_server_cert(
        ca, 'bf-5d12f6fd-master-0', ['10.0.0.3', '172.24.4.10', None, '10.0.0.3',
                                     tls.service_ip('10.254.0.0/16')],
        ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc'])


@pytest.fixture(scope='module')
def client(ca):
    return tls.issue_client_cert(ca)


@pytest.fixture
def conf(tmp_path):
    opts = cfg.ConfigOpts()
    config.register_opts(opts)
    opts([], project='bayflow', default_config_files=[], default_config_dirs=[])
    opts.set_override('state_path', str(tmp_path / 'state'))
    yield opts
    opts.reset()


# -- certificates ------------------------------------------------------------------

def test_ca(ca):
    cert = load(ca['cert'])
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    cert.verify_directly_issued_by(cert)
    assert cn(cert) == 'k8sbay'
    assert BAY_UUID in cert.subject.rfc4514_string()
    life = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert datetime.timedelta(days=5 * 365) <= life <= datetime.timedelta(days=5 * 365 + 1)
    assert key_matches(ca)
    assert isinstance(load(ca['cert']).public_key().curve, ec.SECP256R1)


def test_an_rsa_ca_of_an_older_bayflow_still_signs():
    """Bays made before the CA key went EC keep theirs: bay-config and a
    scale-up still issue certificates from it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'old-bay')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    old = {'cert': cert.public_bytes(serialization.Encoding.PEM).decode(),
           'key': key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()).decode()}
    issued = tls.issue_client_cert(old)
    load(issued['cert']).verify_directly_issued_by(cert)
    mismatched = dict(old, key=tls.make_ca('x')['key'])
    with pytest.raises(tls.CertificateError, match='does not belong'):
        tls.issue_client_cert(mismatched)


def test_service_account_key_is_rsa_2048():
    """kubernetes before 1.6 signs service-account tokens with RSA only."""
    key = serialization.load_pem_private_key(tls.service_account_key().encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048


def test_ca_signs_the_server_cert_with_its_sans(ca, server):
    cert = load(server['cert'])
    cert.verify_directly_issued_by(load(ca['cert']))
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == \
        ['10.0.0.3', '172.24.4.10', '10.254.0.1']
    assert san.get_values_for_type(x509.DNSName) == [
        'bf-5d12f6fd-master-0', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc']
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usage
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.not_valid_after_utc <= load(ca['cert']).not_valid_after_utc
    assert key_matches(server)


def test_client_cert(ca, client):
    cert = load(client['cert'])
    cert.verify_directly_issued_by(load(ca['cert']))
    assert cn(cert) == 'admin'
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == \
        'system:masters'
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert key_matches(client)


def test_service_ip():
    assert tls.service_ip('10.254.0.0/16') == '10.254.0.1'
    assert tls.service_ip('172.30.0.0/24') == '172.30.0.1'


def _files(tmp_path, name, pair):
    cert, key = tmp_path / f'{name}.crt', tmp_path / f'{name}.key'
    cert.write_text(pair['cert'])
    key.write_text(pair['key'])
    return str(cert), str(key)


def _handshake(server_ctx, client_ctx, hostname):
    """A TLS handshake in memory; -> the client certificate the server saw."""
    bios = [ssl.MemoryBIO() for _ in range(4)]
    srv = server_ctx.wrap_bio(bios[0], bios[1], server_side=True)
    cli = client_ctx.wrap_bio(bios[2], bios[3], server_hostname=hostname)
    done = set()
    for _ in range(10):
        for name, end in (('client', cli), ('server', srv)):
            try:
                end.do_handshake()
                done.add(name)
            except ssl.SSLWantReadError:
                pass
        bios[0].write(bios[3].read())
        bios[2].write(bios[1].read())
        if done == {'client', 'server'}:
            cli.write(b'ping')            # TLS 1.3: the server checks the client now
            bios[0].write(bios[3].read())
            assert srv.read(4) == b'ping'
            return srv.getpeercert()
    raise AssertionError('handshake did not finish')


def _contexts(tmp_path, ca, server, client):
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(*_files(tmp_path, 'server', server))
    server_ctx.load_verify_locations(cadata=ca['cert'])
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_verify_locations(cadata=ca['cert'])
    client_ctx.load_cert_chain(*_files(tmp_path, 'client', client))
    return server_ctx, client_ctx


@pytest.mark.parametrize('hostname', ['kubernetes.default', '172.24.4.10', '10.254.0.1'])
def test_client_cert_works_against_the_server_cert(tmp_path, ca, server, client, hostname):
    peer = _handshake(*_contexts(tmp_path, ca, server, client), hostname)
    assert dict(x[0] for x in peer['subject'])['commonName'] == 'admin'


def test_a_client_of_another_bay_is_refused(tmp_path, ca, server):
    stranger = tls.issue_client_cert(tls.make_ca('other-bay'))
    with pytest.raises(ssl.SSLError):
        _handshake(*_contexts(tmp_path, ca, server, stranger), 'kubernetes')


def test_a_name_not_in_the_sans_is_refused(tmp_path, ca, server, client):
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(*_contexts(tmp_path, ca, server, client), 'api.example.com')


def test_issuing_needs_a_whole_ca(ca, server):
    with pytest.raises(tls.CertificateError, match='decrypt the stored CA key'):
        tls.issue_client_cert({'cert': ca['cert']})
    with pytest.raises(tls.CertificateError, match='not a CA'):
        tls.issue_client_cert(server)
    other = tls.make_ca('x')
    with pytest.raises(tls.CertificateError, match='does not belong'):
        tls.issue_client_cert({'cert': ca['cert'], 'key': other['key']})
    broken = {'cert': ca['cert'], 'key': ca['key'][:200]}
    with pytest.raises(tls.CertificateError) as caught:
        tls.issue_client_cert(broken)
    assert ca['key'][40:80] not in str(caught.value)


def test_reprs_hide_keys(ca):
    assert 'PRIVATE' not in repr(ca) and '<hidden>' in repr(ca)
    assert ca['key'] not in str({'ca': ca})
    assert tls.fingerprint(ca['cert']) in repr(ca)
    files = coe.get_driver('kubernetes', 'fedora-atomic').bay_config(
        make_bay(), make_baymodel(), ca)
    assert 'PRIVATE' not in repr(files) and 'PRIVATE' not in str([files])


# -- the CA key at rest ------------------------------------------------------------------

def test_encrypt_decrypt_roundtrip(ca):
    key = Fernet.generate_key().decode()
    token = tls.encrypt_key(ca['key'], key)
    assert 'PRIVATE KEY' not in token and isinstance(token, str)
    assert tls.decrypt_key(token, key) == ca['key']


def test_wrong_key_gives_one_clear_error(ca):
    key, other = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = tls.encrypt_key(ca['key'], key)
    with pytest.raises(tls.CaKeyEncryptionError) as caught:
        tls.decrypt_key(token, other)
    text = str(caught.value)
    assert '[certificates] ca_key_encryption_key' in text and 'not the key' in text
    assert other not in text and key not in text and token not in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    with pytest.raises(tls.CaKeyEncryptionError):
        tls.decrypt_key(token[:-5], key)


def test_malformed_key_is_refused_without_echo(ca):
    with pytest.raises(tls.CaKeyEncryptionError, match='32 url-safe base64') as caught:
        tls.encrypt_key(ca['key'], 'not-a-fernet-key-hunter2')
    assert 'hunter2' not in str(caught.value)


def test_configured_key_is_used(conf, ca):
    key = Fernet.generate_key().decode()
    conf.set_override('ca_key_encryption_key', key, group='certificates')
    assert tls.encryption_key(conf) == key
    assert not os.path.exists(os.path.join(config.state_path(conf), tls.KEY_FILE_NAME))
    conf.set_override('ca_key_encryption_key', 'short', group='certificates')
    with pytest.raises(tls.CaKeyEncryptionError) as caught:
        tls.encryption_key(conf)
    assert "'short'" not in str(caught.value)


def test_embedded_default_generates_one_key_file(conf, ca):
    first = tls.encryption_key(conf)
    path = os.path.join(config.state_path(conf), tls.KEY_FILE_NAME)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert tls.encryption_key(conf) == first
    Fernet(first)
    assert os.listdir(config.state_path(conf)) == [tls.KEY_FILE_NAME]   # no temp file left
    assert tls.decrypt_key(tls.encrypt_key(ca['key'], first), tls.encryption_key(conf)) == \
        ca['key']


def test_key_required_with_a_database(conf):
    conf.set_override('connection', 'postgresql://db.example.com/bayflow', group='database')
    with pytest.raises(tls.CaKeyEncryptionError, match='required with a \\[database\\]'):
        tls.encryption_key(conf)


def test_option_is_secret():
    (opt,) = [o for o in config.certificates_opts if o.dest == 'ca_key_encryption_key']
    assert opt.secret


# -- nothing secret reaches a logger ---------------------------------------------------------

@pytest.fixture
def logged(caplog):
    """-> a function giving every event handed to a bayflow logger (before
    redaction) and every stdlib log record, as text."""
    events = []

    def record(_logger, _method, event_dict):
        events.append(repr(event_dict))
        return event_dict

    log._PROCESSORS.insert(0, record)
    caplog.set_level(logging.DEBUG)
    try:
        yield lambda: '\n'.join(events + [caplog.text])
    finally:
        log._PROCESSORS.remove(record)


def test_no_private_key_or_fernet_key_is_logged(logged, conf):
    ca = tls.make_ca(BAY_UUID, 'logged-bay')
    key = tls.encryption_key(conf)
    token = tls.encrypt_key(ca['key'], key)
    tls.decrypt_key(token, key)
    with pytest.raises(tls.CaKeyEncryptionError):
        tls.decrypt_key(token, Fernet.generate_key())
    server = tls.issue_server_cert(ca, 'master', ['10.0.0.3'])
    client = tls.issue_client_cert(ca)
    driver = coe.get_driver('kubernetes', 'fedora-atomic')
    driver.render_user_data('master', make_context('master', 0, ca))
    driver.render_user_data('node', make_context('node', 0, ca))
    files = driver.bay_config(make_bay(), make_baymodel(), ca)
    text = logged()
    assert text.count('bay CA created') >= 2        # recorded and emitted, by fingerprint
    assert 'generated the CA key encryption key' in text and tls.fingerprint(ca['cert']) in text
    assert 'PRIVATE KEY' not in text
    for pem in (ca['key'], server['key'], client['key'], files['key.pem']):
        for line in pem.splitlines()[1:-1]:
            assert line not in text
    assert key not in text
