"""TLS session resumption: a client that opens a new connection per request resumes its session
from a ticket (TLS 1.3 and TLS 1.2), a resumed client keeps its certificate identity and has it
checked against the current client CA, and a ticket does not outlive the process that issued it
(its key is made at start and never stored)."""
import json
import signal
import socket
import ssl
import time

import pytest

from certs import make_ca, make_client
from harness import Signet

VERSIONS = {"TLSv1.3": ssl.TLSVersion.TLSv1_3, "TLSv1.2": ssl.TLSVersion.TLSv1_2}
TICKET_LIFETIME_MAX = 3600  # SessionTickets::kRotation: no ticket may outlive its key's turn


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resumption")
    d = Signet(folder / "signet")
    d.certs = folder / "certs"
    d.certs.mkdir()
    d.client_ca = make_ca(d.certs, "Resumption clients CA")
    d.config["tls"]["client_ca_file"] = str(d.client_ca[2])
    d.config["clients"].append({"id": "robot", "cert_subject": "CN=robot", "profiles": ["service"],
                                "audiences": ["platxa-internal"]})
    d.robot = make_client(d.certs, "robot", d.client_ca, "robot")
    with d:
        yield d


class Exchange:
    """What one request on a new TLS connection saw."""

    def __init__(self, status: int, reused: bool, session: ssl.SSLSession):
        self.status, self.reused, self.session = status, reused, session


def exchange(daemon, context, session=None, *, method="GET", path="/healthz", body=b"",
             headers=None) -> Exchange:
    """One request on a new connection that offers `session`; the connection is read to its end,
    so that a TLS 1.3 ticket (sent after the handshake) has arrived when the session is taken."""
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
            f"Content-Length: {len(body)}", *[f"{k}: {v}" for k, v in (headers or {}).items()]]
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1", session=session) as tls:
            tls.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
            return Exchange(int(answer.split(b" ", 2)[1]), tls.session_reused, tls.session)


def service_token(daemon, context, session=None) -> Exchange:
    body = json.dumps({"profile": "service", "sub": "job-7"}).encode()
    return exchange(daemon, context, session, method="POST", path="/v1/tokens", body=body,
                    headers={"Content-Type": "application/json"})


def api_key_token(daemon, context, session=None) -> Exchange:
    body = json.dumps({"profile": "access", "sub": "alice"}).encode()
    return exchange(daemon, context, session, method="POST", path="/v1/tokens", body=body,
                    headers={"Content-Type": "application/json",
                             "Authorization": f"Bearer {daemon.keys['webapp']}"})


def context_for(daemon, version: str, cert=None) -> ssl.SSLContext:
    ctx = daemon.ssl_context(minimum=VERSIONS[version], maximum=VERSIONS[version])
    if cert is not None:
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    return ctx


@pytest.mark.parametrize("version", VERSIONS)
def test_a_reconnecting_client_resumes(daemon, version):
    ctx = context_for(daemon, version)
    first = api_key_token(daemon, ctx)
    assert first.status == 200 and not first.reused
    assert first.session.has_ticket, "the server issued no session ticket"
    assert 0 < first.session.ticket_lifetime_hint <= TICKET_LIFETIME_MAX
    second = api_key_token(daemon, ctx, first.session)
    assert second.reused, f"a {version} client that offered its ticket did a full handshake"
    assert second.status == 200


@pytest.mark.parametrize("version", VERSIONS)
def test_a_resumed_client_keeps_its_certificate_identity(daemon, version):
    ctx = context_for(daemon, version, daemon.robot)
    first = service_token(daemon, ctx)
    assert first.status == 200 and not first.reused
    second = service_token(daemon, ctx, first.session)
    assert second.reused and second.status == 200


def reloads(daemon) -> int:
    lines = [json.loads(line) for line in daemon.stderr().splitlines() if line.startswith("{")]
    return sum(1 for line in lines if line.get("event") == "reloaded")


def sighup(daemon) -> None:
    """Writes the config, sends SIGHUP and waits until the daemon logs that it reloaded."""
    daemon.write_config()
    seen = reloads(daemon)
    daemon.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 15
    while reloads(daemon) == seen:
        assert time.monotonic() < deadline, f"no reload logged:\n{daemon.stderr()}"
        time.sleep(0.05)


def test_a_resumed_certificate_is_checked_against_the_current_ca(daemon):
    """The ticket carries the certificate of the first handshake; each request verifies it anew,
    so a CA replaced since then refuses a resumed client as it refuses a new one."""
    ctx = context_for(daemon, "TLSv1.3", daemon.robot)
    first = service_token(daemon, ctx)
    assert first.status == 200
    old_ca = daemon.config["tls"]["client_ca_file"]
    daemon.config["tls"]["client_ca_file"] = str(make_ca(daemon.certs, "Replacement CA")[2])
    try:
        sighup(daemon)
        resumed = service_token(daemon, ctx, first.session)
        assert resumed.reused and resumed.status == 401
    finally:
        daemon.config["tls"]["client_ca_file"] = old_ca
        sighup(daemon)


def test_a_ticket_does_not_outlive_the_process(daemon):
    """The ticket key is made at start and kept in memory only: after a restart every ticket
    of the previous process is refused (a full handshake, not an error)."""
    ctx = context_for(daemon, "TLSv1.3")
    before = exchange(daemon, ctx)
    assert exchange(daemon, ctx, before.session).reused
    daemon.restart()
    after = exchange(daemon, ctx, before.session)
    assert after.status == 200 and not after.reused
