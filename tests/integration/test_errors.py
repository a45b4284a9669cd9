"""Every error status of the API, each with the JSON error body, and never an echoed secret."""
import http.client
import io
import json
import select
import socket
import ssl

import pytest

from harness import Response

VALID = {"profile": "access", "sub": "alice"}


def assert_error(resp, status, code, *secrets):
    assert resp.status == status, resp
    assert resp.headers["Content-Type"].split(";")[0].strip() == "application/json"
    body = resp.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == code
    assert isinstance(body["error_description"], str) and body["error_description"].strip()
    for secret in secrets:
        assert secret not in resp.text, "the error body echoes a secret"
        assert all(secret not in v for v in resp.headers.values()), "a header echoes a secret"


def post(signet, body, client="webapp", **kw):
    return signet.request("POST", "/v1/tokens", body, key=signet.keys[client] if client else None, **kw)


# --- 400 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [b'{"profile": "access", "sub":', b"not json", b"", b"[]", b'"access"',
                                  b'{"profile": "access", "sub": "a"} trailing',
                                  b'{"profile": "access", "sub": "\xff\xfe"}'],
                         ids=["truncated", "not-json", "empty", "array", "string", "trailing", "bad-utf8"])
def test_malformed_json_is_400(signet, body):
    resp = post(signet, body, content_type="application/json")
    assert_error(resp, 400, "invalid_request", signet.keys["webapp"])


@pytest.mark.parametrize("field,value", [("profile", 5), ("sub", ["alice"]), ("sub", None),
                                         ("aud", 7), ("ttl", {"m": 5}), ("claims", "user_id=7")])
def test_wrong_field_types_are_400(signet, field, value):
    resp = signet.issue(**{field: value})
    assert_error(resp, 400, "invalid_request", signet.keys["webapp"])


def test_missing_sub_is_400(signet):
    resp = post(signet, json.dumps({"profile": "access"}), content_type="application/json")
    assert_error(resp, 400, "invalid_request")


# --- 401 --------------------------------------------------------------------------------------

def assert_401(resp, *secrets):
    assert_error(resp, 401, "invalid_client", *secrets)
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="signet"'


def test_no_credentials_is_401(signet):
    assert_401(post(signet, json.dumps(VALID), client=None, content_type="application/json"))


def test_wrong_key_is_401_and_not_echoed(signet):
    wrong = "wrong-" + signet.keys["webapp"][6:]
    resp = signet.request("POST", "/v1/tokens", json_body=VALID, key=wrong)
    assert_401(resp, wrong)


@pytest.mark.parametrize("header", ["Basic d2ViYXBwOnNlY3JldA==", "Bearer", "Bearer ", "bearer"])
def test_malformed_authorization_is_401(signet, header):
    resp = signet.request("POST", "/v1/tokens", json_body=VALID, headers={"Authorization": header})
    assert_401(resp)


# --- 403 --------------------------------------------------------------------------------------

def test_403_body_does_not_echo_key(signet):
    resp = signet.issue(profile="service")
    assert_error(resp, 403, "access_denied", signet.keys["webapp"])


# --- 404, 405 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/nope", "/v1/token", "/.well-known/jwks", "/v1/tokens/x"])
def test_unknown_route_is_404(signet, path):
    assert_error(signet.get(path), 404, "not_found")


def test_get_tokens_is_405_with_allow_post(signet):
    resp = signet.get("/v1/tokens", key=signet.keys["webapp"])
    assert_error(resp, 405, "method_not_allowed", signet.keys["webapp"])
    allowed = [m.strip() for m in resp.headers["Allow"].split(",")]
    assert "POST" in allowed and "GET" not in allowed


def test_post_jwks_is_405_with_allow_get(signet):
    resp = signet.request("POST", "/.well-known/jwks.json", json_body={})
    assert_error(resp, 405, "method_not_allowed")
    assert "GET" in [m.strip() for m in resp.headers["Allow"].split(",")]


# --- 413 --------------------------------------------------------------------------------------

def test_body_over_limit_is_413(signet):
    body = json.dumps({**VALID, "claims": {"user_id": "x" * 20000}})
    resp = post(signet, body, content_type="application/json")
    assert_error(resp, 413, "payload_too_large", signet.keys["webapp"])


def test_body_at_limit_is_not_413(signet):
    """The limit is the configured one, not something smaller: a body just under it is parsed."""
    body = json.dumps({**VALID, "claims": {"user_id": ""}})
    body = body.replace('""', '"' + "x" * (16384 - len(body)) + '"')
    assert len(body) == 16384
    resp = post(signet, body, content_type="application/json")
    assert resp.status != 413, resp


class _Replayed(io.RawIOBase):
    """A TLS socket's reader with bytes already taken from it put back in front."""

    def __init__(self, head: bytes, tls):
        self.head, self.tls = head, tls

    def readable(self):
        return True

    def readinto(self, buffer):
        if not self.head:
            return self.tls.recv_into(buffer)
        n = min(len(buffer), len(self.head))
        buffer[:n], self.head = self.head[:n], self.head[n:]
        return n


class _AnswerSocket:
    """What http.client.HTTPResponse reads from: the early bytes, then the socket."""

    def __init__(self, head: bytes, tls):
        self.reader = io.BufferedReader(_Replayed(head, tls))

    def makefile(self, mode):
        return self.reader


def early_answer(tls) -> bytes:
    """The bytes of an answer that arrived while sending, without waiting; b"" when none did.
    A readable socket alone does not tell: TLS 1.3 session tickets come after the handshake."""
    if not select.select([tls], [], [], 0)[0]:
        return b""
    tls.setblocking(False)
    try:
        return tls.recv(65536)
    except ssl.SSLWantReadError:
        return b""  # only handshake messages (tickets) were read
    finally:
        tls.setblocking(True)


def post_chunked(signet, chunks: int) -> Response:
    """POSTs `chunks` chunks of 4 KiB with Transfer-Encoding: chunked (so no Content-Length), and
    stops sending as soon as the server answers, as a real client would."""
    key = signet.keys["webapp"]
    raw = socket.create_connection(("127.0.0.1", signet.port), timeout=10)
    tls = signet.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1")
    try:
        tls.sendall((f"POST /v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
                     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode())
        chunk = b"%x\r\n%s\r\n" % (4096, b" " * 4096)
        head = b""
        try:
            for _ in range(chunks):
                if head := early_answer(tls):
                    break  # an early answer: stop sending
                tls.sendall(chunk)
            else:
                tls.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed after answering; the answer may still be readable
        resp = http.client.HTTPResponse(_AnswerSocket(head, tls))
        resp.begin()
        return Response(resp.status, resp.headers, resp.read())
    finally:
        tls.close()


def test_chunked_body_over_limit_is_413(signet):
    """A chunked body has no Content-Length: the server must count while reading (20 KiB)."""
    assert_error(post_chunked(signet, 5), 413, "payload_too_large", signet.keys["webapp"])


def test_large_chunked_body_is_413_early(signet):
    """1 MiB chunked: refused once the limit is passed, without reading everything first."""
    assert_error(post_chunked(signet, 256), 413, "payload_too_large", signet.keys["webapp"])


# --- 431 --------------------------------------------------------------------------------------

def padding(fields: int, field_bytes: int) -> dict:
    """`fields` header fields of field_bytes each on the wire ("X-Pad-N: vvv\r\n")."""
    names = [f"X-Pad-{i:04d}" for i in range(fields)]
    return {name: "v" * (field_bytes - len(name) - 4) for name in names}


@pytest.mark.parametrize("fields, field_bytes", [(1, 16384), (15, 1024), (200, 64)],
                         ids=["one 16 KiB field", "15 fields of 1 KiB", "200 fields of 64 bytes"])
def test_16_kib_of_headers_are_served(signet, fields, field_bytes):
    """What proxies and meshes add (forwarding, tracing, a forwarded client certificate) fits:
    the server takes a 16 KiB header block (server.cpp, kMaxHeaderBytes)."""
    resp = post(signet, json.dumps(VALID), content_type="application/json", headers=padding(fields, field_bytes))
    assert resp.status == 200, resp


def test_headers_far_over_the_allowance_are_431(signet):
    resp = post(signet, json.dumps(VALID), content_type="application/json", headers=padding(1, 64 * 1024))
    assert resp.status == 431, resp


# --- 415 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_non_json_body_is_415(signet, content_type):
    headers = {"Authorization": f"Bearer {signet.keys['webapp']}"}
    if content_type:
        headers["Content-Type"] = content_type
    resp = signet.request("POST", "/v1/tokens", json.dumps(VALID), headers=headers)
    assert_error(resp, 415, "unsupported_media_type", signet.keys["webapp"])


def test_json_with_charset_is_accepted(signet):
    resp = post(signet, json.dumps(VALID), content_type="application/json; charset=utf-8")
    assert resp.status == 200, resp
