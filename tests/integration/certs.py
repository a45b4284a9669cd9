"""Certificates for the TLS tests, made with python3-cryptography: a client CA, good,
foreign-CA, expired, unknown-subject, wrong-purpose and weak-key client certificates, and server
certificates for 127.0.0.1 from an existing CA."""
import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(key, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def make_ca(folder: Path, cn: str):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(key, hashes.SHA256()))
    path = folder / f"{cn.replace(' ', '_')}.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key, path


def load_ca(cert_path: Path, key_path: Path):
    """An existing CA (PEM files) in the (cert, key, path) form the makers take."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    return cert, key, cert_path


def _make_leaf(folder: Path, name: str, ca, cn: str, purpose, expired=False, extensions=(), rsa_bits=0):
    """(cert path, key path) of an end-entity certificate for cn signed by ca: an EC P-256 key,
    or RSA of rsa_bits."""
    ca_cert, ca_key, _ = ca
    key = rsa.generate_private_key(65537, rsa_bits) if rsa_bits else ec.generate_private_key(ec.SECP256R1())
    start = NOW - datetime.timedelta(days=10 if expired else 1)
    end = NOW - datetime.timedelta(days=5) if expired else NOW + datetime.timedelta(days=2)
    builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False))
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, key_path)
    return cert_path, key_path


def make_client(folder: Path, name: str, ca, cn: str, expired=False, purpose=ExtendedKeyUsageOID.CLIENT_AUTH,
                rsa_bits=0):
    """(cert path, key path) of a client certificate signed by ca = (cert, key, path)."""
    return _make_leaf(folder, name, ca, cn, purpose, expired, rsa_bits=rsa_bits)


def make_server(folder: Path, name: str, ca, cn: str = "localhost"):
    """(cert path, key path) of a server certificate for 127.0.0.1 and localhost."""
    names = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")])
    return _make_leaf(folder, name, ca, cn, ExtendedKeyUsageOID.SERVER_AUTH, extensions=[names])
