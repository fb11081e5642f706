"""The emulator over TLS: clients that only speak ``wss://`` reach it too.

A self-signed certificate for ``127.0.0.1`` is made per test session, and the
clients trust it through ``SSL_CERT_FILE``, as a user would run them. OpenSSL
reads that variable when a default context is *built*: websockets builds one per
connection, so setting the variable is enough; aiohttp builds its one when it is
imported, long before a test runs, so :func:`trusting` also rebuilds aiohttp's
context the way aiohttp does, as a process started with the variable would have it.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp.connector
import pytest
from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError

from videosdk_plugins_azure import AzureVoiceLive
from videosdk_plugins_azure.emulator import VoiceLiveEmulator
from videosdk_plugins_azure.emulator.__main__ import build_emulator, parser

from .conftest import KEY, MODEL, recv_until, sdk

Pem = tuple[Path, Path]


def _with_cryptography(cert: Path, key: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(private.public_key()), critical=False
        )
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _with_openssl(openssl: str, cert: Path, key: Path) -> None:
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    files = ["-keyout", str(key), "-out", str(cert)]
    command = [openssl, "req", "-x509", "-nodes", "-days", "1", *curve, *subject, *files]
    subprocess.run(command, check=True, capture_output=True)


@pytest.fixture(scope="session")
def pem(tmp_path_factory: pytest.TempPathFactory) -> Pem:
    """A self-signed certificate for 127.0.0.1 and its key, made at test time."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        _with_cryptography(cert, key)
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip("needs the cryptography package or the openssl command to make a cert")
        _with_openssl(openssl, cert, key)
    return cert, key


@pytest.fixture
async def tls_emu(pem: Pem) -> AsyncIterator[VoiceLiveEmulator]:
    cert, key = pem
    async with VoiceLiveEmulator(
        api_key=KEY,
        speed=float("inf"),
        tts="synthetic",
        model_latency=0,
        tls_cert=cert,
        tls_key=key,
    ) as emulator:
        yield emulator


@pytest.fixture
def trusting(monkeypatch: pytest.MonkeyPatch, pem: Pem) -> None:
    """``SSL_CERT_FILE=cert.pem`` for this test only (see the module docstring)."""
    if not hasattr(aiohttp.connector, "_SSL_CONTEXT_VERIFIED"):
        pytest.skip("this aiohttp keeps no import-time default context to rebuild")
    monkeypatch.setenv("SSL_CERT_FILE", str(pem[0]))
    context = ssl.create_default_context()
    assert context.cert_store_stats()["x509"] >= 1  # OpenSSL read the variable
    monkeypatch.setattr(aiohttp.connector, "_SSL_CONTEXT_VERIFIED", context)


def test_tls_files_are_checked_when_the_emulator_is_built(pem: Pem, tmp_path: Path) -> None:
    cert, key = pem
    with pytest.raises(ValueError, match="tls_key needs tls_cert"):
        VoiceLiveEmulator(tls_key=key)
    with pytest.raises(FileNotFoundError):
        VoiceLiveEmulator(tls_cert=tmp_path / "missing.pem", tls_key=key)
    with pytest.raises(ssl.SSLError):
        VoiceLiveEmulator(tls_cert=key, tls_key=key)  # a key is not a certificate
    combined = tmp_path / "both.pem"
    combined.write_bytes(cert.read_bytes() + key.read_bytes())
    assert VoiceLiveEmulator(tls_cert=combined).tls  # one PEM holding both is enough
    assert not VoiceLiveEmulator().tls


@pytest.mark.usefixtures("trusting")
async def test_the_sdk_connects_over_wss(tls_emu: VoiceLiveEmulator) -> None:
    assert tls_emu.endpoint == f"https://127.0.0.1:{tls_emu.port}"
    async with sdk(tls_emu) as conn:
        await recv_until(conn, "session.created")
        await conn.session.update(session={"instructions": "over TLS"})
        updated = (await recv_until(conn, "session.updated"))[-1]
    assert updated.session.instructions == "over TLS"
    assert tls_emu.connections[0].auth == "api-key"


async def test_an_untrusted_certificate_is_refused(tls_emu: VoiceLiveEmulator) -> None:
    """Without ``SSL_CERT_FILE`` the client verifies against the system CAs and fails."""
    with pytest.raises(SdkConnectionError, match="certificate"):
        async with sdk(tls_emu):
            pass
    assert tls_emu.connections == []


@pytest.mark.usefixtures("trusting")
async def test_the_plugin_connects_over_wss(tls_emu: VoiceLiveEmulator) -> None:
    model = AzureVoiceLive(endpoint=tls_emu.endpoint, api_key=KEY)
    try:
        await model.connect()
        assert model.ready
        assert tls_emu.connections[0].events("session.update")
    finally:
        await model.aclose()
    assert await tls_emu.connections[0].wait_closed() is not None


async def test_a_wss_only_client_trusts_it_through_ssl_cert_file(
    monkeypatch: pytest.MonkeyPatch, pem: Pem, tls_emu: VoiceLiveEmulator
) -> None:
    """A client on ``websockets`` that rewrites every endpoint to ``wss://``, as
    Pipecat's Voice Live service does: the variable alone is enough for it."""
    from websockets.asyncio.client import connect

    monkeypatch.setenv("SSL_CERT_FILE", str(pem[0]))
    url = tls_emu.endpoint.replace("https://", "wss://")
    uri = f"{url}/voice-live/realtime?api-version=2025-10-01&model={MODEL}"
    async with connect(uri, additional_headers={"api-key": KEY}) as ws:
        created = json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "session.update", "session": {"voice": "echo"}}))
        updated = json.loads(await ws.recv())
    assert created["type"] == "session.created"
    assert (updated["type"], updated["session"]["voice"]) == ("session.updated", "echo")


async def test_cli_flags_serve_tls(pem: Pem) -> None:
    cert, key = pem
    args = parser().parse_args(["--tls-cert", str(cert), "--tls-key", str(key), "--port", "0"])
    async with build_emulator(args) as emu:
        assert emu.tls
        assert emu.endpoint.startswith("https://127.0.0.1:")
