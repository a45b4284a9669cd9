"""The public endpoints: JWKS and its caching headers, discovery, health, and the TLS versions."""
import json
import re
import socket
import ssl
import threading

import pytest

from harness import thumbprint

JWKS_PATHS = ["/.well-known/jwks.json", "/jwks"]


@pytest.mark.parametrize("path", JWKS_PATHS)
def test_jwks_headers(signet, path):
    resp = signet.get(path)
    assert resp.status == 200, resp
    assert resp.headers["Content-Type"].split(";")[0].strip() == "application/jwk-set+json"
    cache = [d.strip() for d in resp.headers["Cache-Control"].split(",")]
    assert sorted(cache) == ["max-age=3600", "public"]
    etag = resp.headers["ETag"]
    assert re.fullmatch(r'"[^"]+"', etag), f"not a strong ETag: {etag!r}"


def test_jwks_alias_serves_same_bytes(signet):
    canonical, alias = signet.get(JWKS_PATHS[0]), signet.get(JWKS_PATHS[1])
    assert canonical.body == alias.body
    assert canonical.headers["ETag"] == alias.headers["ETag"]


def test_jwks_keys_have_thumbprint_kids(signet):
    keys = signet.jwks()["keys"]
    assert len(keys) >= 1
    for jwk in keys:
        assert jwk["kid"] == thumbprint(jwk)
        assert jwk["use"] == "sig" and jwk["alg"] == "ES256"


@pytest.mark.parametrize("path", JWKS_PATHS)
def test_if_none_match_gives_304(signet, path):
    etag = signet.get(path).headers["ETag"]
    resp = signet.get(path, headers={"If-None-Match": etag})
    assert resp.status == 304, resp
    assert resp.body == b""
    assert resp.headers["ETag"] == etag


def test_stale_if_none_match_gives_200(signet):
    resp = signet.get(JWKS_PATHS[0], headers={"If-None-Match": '"not-the-etag"'})
    assert resp.status == 200, resp
    assert resp.json()["keys"]


def test_discovery(signet):
    resp = signet.get("/.well-known/openid-configuration")
    assert resp.status == 200, resp
    assert resp.headers["Content-Type"].split(";")[0].strip() == "application/json"
    doc = resp.json()
    assert doc["issuer"] == signet.issuer
    assert doc["jwks_uri"] in [signet.issuer + path for path in JWKS_PATHS]
    assert doc["token_endpoint"].startswith(signet.issuer + "/")
    assert "ES256" in doc["id_token_signing_alg_values_supported"]


def test_healthz(signet):
    resp = signet.get("/healthz")
    assert resp.status == 200, resp
    assert resp.json() == {"status": "ok"}


def test_readyz(signet):
    resp = signet.get("/readyz")
    assert resp.status == 200, resp


# --- TLS versions -----------------------------------------------------------------------------

def handshake(port, context) -> str:
    """The protocol version a TLS handshake with 127.0.0.1:port agrees on (raises if none)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.version()


def tls11_client(cafile=None) -> ssl.SSLContext:
    """A client that offers TLS 1.1 only. Security level 0, or OpenSSL 3 itself would refuse
    TLS 1.1 and the test would pass whatever the server does."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if cafile:
        ctx.load_verify_locations(cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls11_client_works_against_a_tls11_server(signet):
    """Control for the test below: this client does speak TLS 1.1 when a server allows it."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    server_ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    server_ctx.load_cert_chain(signet.dir / "tls/server.crt", signet.dir / "tls/server.key")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert handshake(port, tls11_client()) == "TLSv1.1"
    finally:
        thread.join(5)
        listener.close()


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls11_refused(signet):
    with pytest.raises((ssl.SSLError, ConnectionError)):
        handshake(signet.port, tls11_client(signet.ca))


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls12_and_tls13_accepted(signet, version):
    ctx = signet.ssl_context(minimum=version, maximum=version)
    assert handshake(signet.port, ctx) == {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                           ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
    resp = signet.get("/healthz", conn=signet.connection(context=ctx))
    assert resp.status == 200
    json.loads(resp.body)
