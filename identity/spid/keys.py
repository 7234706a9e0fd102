"""Signing keys and certificates of each comune's Service Providers.

One RSA key and self-signed certificate per comune and protocol (SPID, CIE),
under `SPID_KEYS_DIR/<schema_name>/`, never in the repository. The
certificate follows AgID's "SPID certificate profile" for public-sector SPs
(Avviso SPID n.29 v3, checked by spid-compliant-certificates): subject with
commonName, organizationName, organizationIdentifier `PA:IT-<codice IPA>`,
countryName IT, localityName and uri (the entityID); policies agIDcert
(1.3.76.16.6) and spid-publicsector-SP (1.3.76.16.4.2.1); keyUsage critical
digitalSignature + nonRepudiation; basicConstraints CA:FALSE; SHA-256.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier
from django.conf import settings

KEY_SIZE = 3072
CERT_VALIDITY_DAYS = 2 * 365
OID_ORGANIZATION_IDENTIFIER = ObjectIdentifier("2.5.4.97")
OID_URI = ObjectIdentifier("2.5.4.83")
POLICY_AGID_CERT = "1.3.76.16.6"
POLICY_SPID_PUBLIC_SP = "1.3.76.16.4.2.1"


class SpidNotConfigured(Exception):
    """A comune lacks what SPID/CIE need (IPA code, e-mail, keys). The message says what."""


@dataclass(frozen=True)
class Credentials:
    key_pem: str
    cert_pem: str

    @property
    def cert_base64(self) -> str:
        """The certificate's DER as base64 on one line, as metadata and KeyInfo carry it."""
        lines = self.cert_pem.strip().splitlines()
        return "".join(line for line in lines if not line.startswith("-----"))


def keys_dir(schema_name: str) -> Path:
    return Path(str(settings.SPID_KEYS_DIR)) / schema_name


def key_paths(schema_name: str, kind: str) -> tuple[Path, Path]:
    folder = keys_dir(schema_name)
    return folder / f"{kind}-key.pem", folder / f"{kind}-cert.pem"


def credentials_load(schema_name: str, kind: str) -> Credentials:
    key_path, cert_path = key_paths(schema_name, kind)
    if not key_path.exists() or not cert_path.exists():
        raise SpidNotConfigured(
            f"mancano la chiave e il certificato {kind.upper()} del comune "
            f"({key_path.parent}): eseguire `manage.py spid_keys`"
        )
    return Credentials(key_pem=key_path.read_text(), cert_pem=cert_path.read_text())


def self_signed_certificate(
    *,
    key: rsa.RSAPrivateKey,
    common_name: str,
    organization: str,
    locality: str,
    uri: str,
    organization_identifier: str | None = None,
    policies: tuple[str, ...] = (),
) -> x509.Certificate:
    attributes = [
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
    ]
    if organization_identifier:
        attributes.append(x509.NameAttribute(OID_ORGANIZATION_IDENTIFIER, organization_identifier))
    attributes += [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "IT"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, locality),
        x509.NameAttribute(OID_URI, uri),
    ]
    name = x509.Name(attributes)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERT_VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if policies:
        builder = builder.add_extension(
            x509.CertificatePolicies(
                [x509.PolicyInformation(ObjectIdentifier(oid), None) for oid in policies]
            ),
            critical=False,
        )
    return builder.sign(key, hashes.SHA256())


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def key_pair_write(
    *, key_path: Path, cert_path: Path, key: rsa.RSAPrivateKey, cert: x509.Certificate
) -> None:
    _write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def sp_keys_ensure(
    *,
    schema_name: str,
    kind: str,
    display_name: str,
    locality: str,
    ipa_code: str,
    entity_id: str,
    force: bool = False,
) -> bool:
    """Generate the comune's key and certificate for `kind` unless present. True if written."""
    key_path, cert_path = key_paths(schema_name, kind)
    if key_path.exists() and cert_path.exists() and not force:
        return False
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    cert = self_signed_certificate(
        key=key,
        common_name=display_name,
        organization=display_name,
        locality=locality,
        uri=entity_id,
        organization_identifier=f"PA:IT-{ipa_code}",
        policies=(POLICY_AGID_CERT, POLICY_SPID_PUBLIC_SP),
    )
    key_pair_write(key_path=key_path, cert_path=cert_path, key=key, cert=cert)
    return True
