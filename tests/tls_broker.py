"""A Kafka broker that clients reach over TLS only: Tansu behind a TLS-terminating proxy.

Tansu 0.6's own TLS flags cannot be combined (docs/broker-quirks.md), so a proxy on this machine
terminates TLS with a certificate from a throw-away private CA and forwards the bytes to a
Tansu broker that advertises the proxy's address: every client connection, bootstrap and
partition leader alike, goes through TLS and is verified against the CA file, as the clients
built from KAFKA_SECURITY_PROTOCOL=SSL and KAFKA_SSL_CAFILE do against the deployed brokers.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lakestream.stack.processes import free_port
from tests.kafka_helpers import memory_broker


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(
    folder: Path, name: str = "lakestream-test-ca"
) -> tuple[Path, ec.EllipticCurvePrivateKey]:
    """A self-signed CA (its PEM file, and its key to sign with)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    path = folder / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, key


def make_server_cert(
    folder: Path, ca_file: Path, ca_key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    """A broker certificate for 127.0.0.1 and localhost, signed by the CA: (cert, key) files."""
    ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("broker-1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(san, critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = folder / "broker.pem", folder / "broker-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class TlsProxy:
    """Accepts TLS on `port` and pipes each connection to `upstream` in clear."""

    context: ssl.SSLContext
    upstream: tuple[str, int]
    port: int = field(default_factory=free_port)
    handshakes: int = 0
    refused: int = 0  # connections whose TLS handshake failed (a client that distrusts us)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._server.settimeout(0.2)
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(10)
        try:
            client = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            self.refused += 1
            raw.close()
            return
        self.handshakes += 1
        client.settimeout(None)
        upstream = socket.create_connection(self.upstream)
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@dataclass
class TlsBroker:
    bootstrap: str
    ca_file: Path
    proxy: TlsProxy


@contextmanager
def tls_broker(folder: Path) -> Iterator[TlsBroker]:
    """A Tansu broker (in memory) reachable only through TLS, with the CA file that trusts it."""
    ca_file, ca_key = make_ca(folder)
    cert, key = make_server_cert(folder, ca_file, ca_key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    broker_port = free_port()
    proxy = TlsProxy(context, ("127.0.0.1", broker_port))
    # Metadata sends every client to the proxy, never around it.
    with memory_broker(folder, broker_port, advertised_port=proxy.port):
        proxy.start()
        try:
            yield TlsBroker(f"127.0.0.1:{proxy.port}", ca_file, proxy)
        finally:
            proxy.stop()
