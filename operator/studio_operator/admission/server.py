"""The HTTPS endpoint the API server calls for admission, and its certificate.

With a certificate directory (tls.crt, tls.key and optionally ca.crt, as cert-manager writes
them) the server uses it, re-reading it when it changes. Without one it makes a self-signed
certificate for its address at every start; in managed mode the operator then registers that
certificate as the webhook configurations' caBundle, so nothing has to be set up by hand.
"""

from __future__ import annotations

import datetime
import ipaddress
import pathlib
from collections.abc import Collection

import kopf
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..config import Config

# Names of the ValidatingWebhookConfiguration and MutatingWebhookConfiguration the operator keeps
# up to date in managed mode; each webhook in them is named <handler id>.studio.dev.
CONFIGURATION_NAME = "studio.dev"
CERT_VALIDITY = datetime.timedelta(days=365)


def self_signed_certificate(hostnames: Collection[str], password: str | None = None) -> tuple[bytes, bytes]:
    """A self-signed CA-and-server certificate for these hostnames and IP addresses (PEM)."""
    ips, names = [], []
    for host in dict.fromkeys(hostnames):
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            names.append(host)
        else:
            if not ip.is_unspecified:
                ips.append(ip)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else str(ips[0]))])
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + CERT_VALIDITY)
        .add_extension(x509.SubjectAlternativeName([*map(x509.DNSName, names), *map(x509.IPAddress, ips)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


class WebhookServer(kopf.WebhookServer):
    """kopf's server, with a self-signed certificate made by `cryptography` (a dependency we
    already have) rather than kopf's optional certbuilder/oscrypto; and, with a `service`
    (namespace, name), registered as called through that Service's port 443 instead of a URL."""

    build_certificate = staticmethod(self_signed_certificate)
    service: tuple[str, str] | None = None

    async def __call__(self, fn):
        async for client_config in super().__call__(fn):
            if self.service:
                namespace, name = self.service
                ca = {"caBundle": client_config["caBundle"]} if "caBundle" in client_config else {}
                client_config = {"service": {"namespace": namespace, "name": name, "port": 443, "path": self.path or ""},
                                 **ca}
            yield client_config


def webhook_server(config: Config) -> WebhookServer:
    files = {}
    if config.webhook_cert_dir:
        cert_dir = pathlib.Path(config.webhook_cert_dir)
        files = {"certfile": cert_dir / "tls.crt", "pkeyfile": cert_dir / "tls.key"}
        if (cert_dir / "ca.crt").exists():
            files["cafile"] = cert_dir / "ca.crt"
    host = config.webhook_host or None
    if config.webhook_service and not host:
        host = f"{config.webhook_service}.{config.namespace}.svc"  # the name the certificate must carry
    server = WebhookServer(
        addr=config.webhook_addr,
        port=config.webhook_port or None,  # None: any free port (managed mode registers it)
        host=host,
        **files,
    )
    if config.webhook_service:
        server.service = (config.namespace, config.webhook_service)
    return server


def configure_admission(settings: kopf.OperatorSettings, config: Config) -> None:
    settings.admission.server = webhook_server(config)
    settings.admission.managed = CONFIGURATION_NAME if config.webhook_managed else None
