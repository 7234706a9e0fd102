"""The demo IdP's own key and certificate, generated once under SPID_KEYS_DIR/demo-idp/."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa

from identity.spid.keys import Credentials, key_pair_write, keys_dir, self_signed_certificate

DEMO_IDP_FOLDER = "demo-idp"


def demo_idp_credentials() -> Credentials:
    folder = keys_dir(DEMO_IDP_FOLDER)
    key_path, cert_path = folder / "key.pem", folder / "cert.pem"
    if not key_path.exists() or not cert_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = self_signed_certificate(
            key=key,
            common_name="IdP dimostrativo",
            organization="Iscrizioni Scolastiche (solo sviluppo)",
            locality="Bergamo",
            uri="http://localhost/spid-demo-idp/",
        )
        key_pair_write(key_path=key_path, cert_path=cert_path, key=key, cert=cert)
    return Credentials(key_pem=key_path.read_text(), cert_pem=cert_path.read_text())
