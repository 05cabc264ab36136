"""A bay's TLS material: its own CA, server and client certificates, the CA key at rest.

Each bay gets a CA made here (Magnum made one per bay too) that signs the API
server certificate of every master, a client certificate for every node and
the ``bay-config`` client certificates. Their keys are EC P-256: every TLS
stack of the COEs takes them (Go's since 1.2, OpenSSL's), they are stronger
than the RSA 2048 keys Magnum issued, and making one costs 0.1 ms of CPU
against 30 ms or more for RSA: at 50 bays at once, that was a fifth of the
daemon's CPU. A CA made by an older bayflow (RSA) still signs.

One key stays RSA: kubernetes before 1.6 signs and checks service-account
tokens only with an RSA key, so ``service_account_key`` makes one when a
kubernetes bay has several masters (all must share it); a single master
makes its own at boot and the private key never leaves it.

The CA private key is stored encrypted (Fernet) with ``[certificates]
ca_key_encryption_key``; see ``encryption_key`` for the embedded default.
Private keys and the Fernet key never reach a log line, a repr or an error:
results are ``CertKey`` dicts whose repr masks the key.
"""

import datetime
import ipaddress
import os
import tempfile

from cryptography import x509
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bayflow import config, log
from bayflow.exceptions import BayflowError

LOG = log.get_logger(__name__)

KEY_SIZE = 2048
PUBLIC_EXPONENT = 65537
# Magnum's [x509] term_of_validity: five years, for the CA and what it signs
# (a bay has no certificate rotation, so short lives would break it).
VALIDITY = datetime.timedelta(days=365 * 5)
# Issued certificates start a little in the past: a node whose clock lags
# the conductor's must still accept them.
BACKDATE = datetime.timedelta(minutes=5)
KEY_FILE_NAME = 'ca_key_encryption.key'
KEY_OPTION = '[certificates] ca_key_encryption_key'
GENERATE_HINT = ('generate one with: python -c "from cryptography.fernet import Fernet; '
                 'print(Fernet.generate_key().decode())"')


class CertificateError(BayflowError):
    """Bad TLS input (a CA that is not one, a missing key)."""


class CaKeyEncryptionError(BayflowError):
    """The CA key encryption key is missing, malformed or not the one used."""


class CertKey(dict):
    """``{'cert': pem, 'key': pem}``: a plain, JSON-safe dict whose repr hides the key."""

    def __repr__(self):
        cert = self.get('cert')
        shown = fingerprint(cert) if cert else None
        return f"CertKey(cert=<sha256 {shown}>, key={'<hidden>' if self.get('key') else None})"

    __str__ = __repr__


class PrivateFiles(dict):
    """``{filename: content}`` holding a private key: its repr names the files only."""

    def __repr__(self):
        return f'PrivateFiles({sorted(self)})'

    __str__ = __repr__


def fingerprint(cert_pem):
    """SHA-256 of the certificate's DER form, hex: what logs may name a cert by."""
    cert = _load_cert(cert_pem)
    return cert.fingerprint(hashes.SHA256()).hex()


def service_ip(service_cidr):
    """The kubernetes API service address: the first host of the service range."""
    return str(ipaddress.ip_network(service_cidr).network_address + 1)


# -- issuing ------------------------------------------------------------------

def make_ca(bay_uuid, bay_name=None):
    """-> CertKey: a self-signed CA for one bay (CN = bay name, OU = bay uuid)."""
    key = _ec_key()
    subject = _name(bay_name or bay_uuid, organization='bayflow', unit=bay_uuid)
    now = _now()
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    result = _pair(cert, key)
    LOG.info('bay CA created', bay_uuid=bay_uuid, cert_sha256=fingerprint(result['cert']))
    return result


def issue_server_cert(ca, cn, ip_sans=(), dns_sans=()):
    """-> CertKey: a TLS server certificate (also usable as a client) signed by ``ca``.

    ``ip_sans``/``dns_sans`` become the subjectAltName (None and repeats are
    dropped); the CN is added to the DNS names, as clients ignore the CN.
    """
    ips = _unique(ipaddress.ip_address(ip) for ip in ip_sans if ip)
    dns = _unique([cn, *(name for name in dns_sans if name)])
    san = x509.SubjectAlternativeName(
        [x509.DNSName(name) for name in dns] + [x509.IPAddress(ip) for ip in ips])
    return _issue(ca, _name(cn), san,
                  [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
                  key=_ec_key())


def issue_client_cert(ca, cn='admin', organization='system:masters'):
    """-> CertKey: a client certificate; kubernetes reads CN as the user, O as the group.

    A bay of 50 nodes issues 50 of them while it boots: their keys are EC (see above).
    """
    return _issue(ca, _name(cn, organization=organization), None,
                  [ExtendedKeyUsageOID.CLIENT_AUTH], key=_ec_key())


def service_account_key():
    """-> str: a new RSA private key (PEM) for a kubernetes bay's service-account
    tokens, shared by its masters (see the module's docstring)."""
    key = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_SIZE)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode('ascii')


def _issue(ca, subject, san, usages, key):
    ca_cert, ca_key = _load_ca(ca)
    now = _now()
    not_after = min(now + VALIDITY, ca_cert.not_valid_after_utc)
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(ca_cert.subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - BACKDATE).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_key_usage(cert_sign=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca_key.public_key()), critical=False))
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    return _pair(builder.sign(ca_key, hashes.SHA256()), key)


def _ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _name(cn, organization=None, unit=None):
    attrs = []
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    # X.509 caps a CN at 64 characters (a bay name may have 242).
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, str(cn)[:64]))
    return x509.Name(attrs)


def _key_usage(cert_sign):
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=not cert_sign,
        data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign,
        crl_sign=cert_sign, encipher_only=False, decipher_only=False)


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _pair(cert, key):
    return CertKey(
        cert=cert.public_bytes(serialization.Encoding.PEM).decode('ascii'),
        key=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode('ascii'))


def _load_cert(pem):
    try:
        return x509.load_pem_x509_certificate(_bytes(pem))
    except (ValueError, TypeError):
        raise CertificateError('invalid certificate: expected one PEM '
                               '"-----BEGIN CERTIFICATE-----" block') from None


def _load_ca(ca):
    if not isinstance(ca, dict) or not ca.get('cert') or not ca.get('key'):
        raise CertificateError("invalid CA: expected {'cert': pem, 'key': pem} with both "
                               "parts (decrypt the stored CA key first)")
    cert = _load_cert(ca['cert'])
    try:
        # A bay's CA key is one bayflow made and kept encrypted: the RSA
        # consistency checks (35 ms a load, once per server of a bay) are
        # skipped, and the key is still checked against the certificate below.
        key = serialization.load_pem_private_key(_bytes(ca['key']), password=None,
                                                 unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError):
        # The text of the underlying error could quote the key: not shown.
        raise CertificateError('invalid CA key: expected an unencrypted PEM private '
                               'key') from None
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    if not constraints.ca:
        raise CertificateError('invalid CA: the certificate is not a CA (basicConstraints '
                               'CA:FALSE)')
    if key.public_key() != cert.public_key():
        raise CertificateError('invalid CA: the key does not belong to the certificate')
    return cert, key


def _bytes(value):
    return value.encode('ascii') if isinstance(value, str) else value


# -- the CA key at rest ---------------------------------------------------------

def encrypt_key(pem, key=None):
    """-> str: the private key ``pem`` encrypted with the Fernet ``key``
    (default: ``encryption_key()``), for the database."""
    return _fernet(key).encrypt(_bytes(pem)).decode('ascii')


def decrypt_key(token, key=None):
    """-> str: the PEM that ``encrypt_key`` encrypted; one clear error on a wrong key."""
    try:
        return _fernet(key).decrypt(_bytes(token)).decode('ascii')
    except (InvalidToken, TypeError, ValueError):
        raise CaKeyEncryptionError(
            f'cannot decrypt the bay CA key: {KEY_OPTION} is not the key it was encrypted '
            f'with (or the stored value is damaged); configure the key this deployment '
            f'used when the bay was created') from None


def _fernet(key):
    if key is None:
        key = encryption_key()
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        raise CaKeyEncryptionError(
            f'invalid {KEY_OPTION}: expected a Fernet key (32 url-safe base64-encoded '
            f'bytes); {GENERATE_HINT}') from None


def encryption_key(conf=config.CONF):
    """-> str: the Fernet key encrypting bay CA keys.

    ``[certificates] ca_key_encryption_key`` when set. Unset, on the embedded
    default (no ``[database] connection``) a key is generated once into
    ``<state_path>/ca_key_encryption.key`` (mode 0600) and read from there
    afterwards: back that file up with the database, a lost key makes every
    bay CA undecryptable. With a configured database the option is required,
    so that every bayflow process sharing the database uses the same key.
    """
    configured = conf.certificates.ca_key_encryption_key
    if configured:
        _fernet(configured)
        return configured
    if conf.database.connection:
        raise CaKeyEncryptionError(
            f'{KEY_OPTION} is required with a [database] connection (every bayflow '
            f'process sharing the database needs the same key); {GENERATE_HINT}')
    path = os.path.join(config.state_path(conf), KEY_FILE_NAME)
    key = _read_or_create(path)
    _fernet(key)
    return key


def _read_or_create(path):
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if not os.path.exists(path):
        # Written to a private temporary file, then linked into place: a
        # concurrent process either wins the link or reads a complete key.
        fd, tmp = tempfile.mkstemp(prefix='.ca-key-', dir=directory)
        try:
            with os.fdopen(fd, 'wb') as handle:
                handle.write(Fernet.generate_key() + b'\n')
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)
                LOG.info('generated the CA key encryption key', path=path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    mode = os.stat(path).st_mode & 0o777
    if mode & 0o077:
        LOG.warning('the CA key encryption key file is readable by others; chmod 600 it',
                    path=path, mode=oct(mode))
    with open(path, encoding='ascii') as handle:
        return handle.read().strip()

