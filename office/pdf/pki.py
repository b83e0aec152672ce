"""A project-managed demo CA: a root and one signing certificate per unit, under STORAGE_DIR/pki.

``flask --app office pki init`` creates them. Production units would get their certificates from
the province's CA instead; the layout on disk (units/<code>.key.pem, units/<code>.cert.pem,
root.cert.pem) stays the same.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import current_app


def pki_dir() -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / "pki"


def _safe(code: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", code):
        raise ValueError(f"bad unit code {code!r}")
    return code


def _name(cn: str, org: str = "office demo CA") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(key, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def init_root(years: int = 20) -> Path:
    d = pki_dir()
    d.mkdir(parents=True, exist_ok=True)
    cert_path = d / "root.cert.pem"
    if cert_path.exists():
        return cert_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    now = dt.datetime.now(dt.UTC)
    name = _name("office demo root CA")
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write_key(key, d / "root.key.pem")
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path


def unit_paths(code: str) -> tuple[Path, Path]:
    d = pki_dir() / "units"
    return d / f"{_safe(code)}.key.pem", d / f"{_safe(code)}.cert.pem"


def issue_unit(code: str, name: str, years: int = 5) -> Path:
    init_root()
    key_path, cert_path = unit_paths(code)
    if cert_path.exists():
        return cert_path
    key_path.parent.mkdir(parents=True, exist_ok=True)
    d = pki_dir()
    root_key = serialization.load_pem_private_key((d / "root.key.pem").read_bytes(), None)
    root = x509.load_pem_x509_certificate((d / "root.cert.pem").read_bytes())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(name, name)).issuer_name(root.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    _write_key(key, key_path)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path


def root_cert_path() -> Path:
    return pki_dir() / "root.cert.pem"
