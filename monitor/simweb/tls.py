"""The TLS listener's certificate, made fresh at start-up, and a polite TLS close.

``cryptography`` builds a self-signed certificate naming every scenario host; its key is
never left on disk.
"""

from __future__ import annotations

import contextlib
import ipaddress
import ssl
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def send_close_notify(connection: ssl.SSLSocket) -> None:
    """End TLS politely without waiting for the peer's close_notify (it may never come)."""
    with contextlib.suppress(OSError, ValueError):
        connection.settimeout(0)
        connection.unwrap()


def tls_context(names: list[str], bind: str, sni: Any) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for every scenario host.

    Clients are not expected to verify it (Scrapy does not by default). The key never
    outlives this call on disk: ``load_cert_chain`` needs files, so it gets a private
    temporary directory that is removed once the context holds the key.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "simweb")])
    now = datetime.now(UTC)
    alternative: list[x509.GeneralName] = [x509.DNSName(n) for n in [*names, "localhost"]]
    with contextlib.suppress(ValueError):  # bound to a name, not an address: nothing to add
        alternative.append(x509.IPAddress(ipaddress.ip_address(bind)))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="simweb-tls-") as folder:
        pem = Path(folder) / "simweb.pem"
        pem.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            + certificate.public_bytes(serialization.Encoding.PEM)
        )
        context.load_cert_chain(pem)
    context.sni_callback = sni
    return context
