"""A hostile network: one address (127.0.0.2 and a few neighbours) holds or trickles
connections, guesses credentials or sends oversized bodies, while the client under test stays on
127.0.0.1 and must keep getting its tokens. Every attack loop is bounded in count and time, and
all traffic stays on loopback."""
import base64
import http.client
import json
import socket
import ssl
import subprocess
import time

import pytest

from harness import Signet

ATTACKER = "127.0.0.2"


def metric(daemon, name) -> float:
    """The value of one Prometheus sample (name with its labels, exactly as rendered)."""
    for line in daemon.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def raw_socket(daemon, source=ATTACKER, timeout=5.0) -> socket.socket:
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", daemon.port))
    return s


def closed_within(sock, seconds: float) -> bool:
    """Whether the server closes sock within seconds (end of stream or reset)."""
    deadline = time.monotonic() + seconds
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if sock.recv(4096) == b"":
                return True
        except (socket.timeout, ssl.SSLWantReadError):
            if time.monotonic() >= deadline:
                return False
        except OSError:
            return True


def timed_issue(daemon):
    """(status, seconds) of one token request from 127.0.0.1 on a new connection."""
    started = time.monotonic()
    status = daemon.issue().status
    return status, time.monotonic() - started


@pytest.fixture
def daemon(tmp_path):
    d = Signet(tmp_path / "s")
    d.config["limits"].update({"max_connections": 64, "max_connections_per_address": 8,
                               "request_timeout": "2s", "idle_timeout": "3s",
                               "auth_failures_per_address": 5, "max_auth_backoff": "1m"})
    yield d
    if d.proc is not None:
        d.stop()


# --- connections -------------------------------------------------------------------------------

def test_one_address_cannot_fill_the_connection_limit(daemon):
    daemon.config["limits"]["request_timeout"] = "10s"  # the per-address limit alone
    with daemon:
        held = []
        try:
            for _ in range(300):  # far beyond max_connections (64)
                try:
                    held.append(raw_socket(daemon))
                except OSError:
                    pass
            time.sleep(0.3)
            results = [timed_issue(daemon) for _ in range(20)]
            assert all(status == 200 for status, _ in results), results
            assert max(seconds for _, seconds in results) < 2.0, results
            alive = [s for s in held if not closed_within(s, 0.01)]
            assert len(alive) <= 8, len(alive)
            assert metric(daemon, "signet_connections_refused_total") >= 250
        finally:
            for s in held:
                s.close()


def test_trickling_and_idle_connections_are_cut_at_their_deadline(daemon):
    with daemon:
        ctx = daemon.ssl_context()
        raw = raw_socket(daemon)  # no handshake at all
        tricklers = []
        for _ in range(6):
            tls = ctx.wrap_socket(raw_socket(daemon), server_hostname="127.0.0.1")
            tls.sendall(b"POST /v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            tricklers.append(tls)
        started = time.monotonic()
        cut = {}
        # One byte per connection every 0.25 s: libmicrohttpd's inactivity timeout never fires,
        # the request deadline (2 s) does. Bounded: 6 s at most.
        while len(cut) < len(tricklers) and time.monotonic() - started < 6:
            for i, tls in enumerate(tricklers):
                if i in cut:
                    continue
                try:
                    tls.send(b"a")
                except OSError:
                    cut[i] = time.monotonic() - started
            status, seconds = timed_issue(daemon)
            assert status == 200 and seconds < 2.0, (status, seconds)
            time.sleep(0.25)
        assert len(cut) == len(tricklers), cut
        assert all(1.5 <= t <= 4.5 for t in cut.values()), cut
        assert closed_within(raw, 1.0)
        # A keep-alive connection idle past idle_timeout (3 s) is closed by the server.
        conn = daemon.connection()
        assert daemon.issue(conn=conn).status == 200
        assert closed_within(conn.sock, 4.5)
        assert metric(daemon, "signet_connections_timed_out_total") >= 8
        for tls in tricklers:
            tls.close()
        raw.close()


# --- credential guessing -----------------------------------------------------------------------

def test_guessing_from_one_address_backs_off_and_spares_the_others(daemon):
    with daemon:
        wrong = "wrong-" + "x" * 30
        guess = {"json_body": {"profile": "access", "sub": "a"}, "key": wrong, "source": ATTACKER}
        statuses = []
        while len(statuses) < 12 and (not statuses or statuses[-1].status != 429):
            statuses.append(daemon.request("POST", "/v1/tokens", **guess))
            # The client under test is not slowed by any of it.
            assert daemon.issue().status == 200
        codes = [r.status for r in statuses]
        # The threshold (5), the failure that crosses it, then a backoff of 1 s.
        assert codes == [401] * 6 + [429], codes
        refused = statuses[-1]
        assert refused.json()["error"] == "rate_limited" and refused.headers["Retry-After"] == "1"
        # Even the right key is refused from an address in backoff: a guess must not be testable.
        assert daemon.request("POST", "/v1/tokens", json_body={"profile": "access", "sub": "a"},
                              key=daemon.keys["webapp"], source=ATTACKER).status == 429
        # The backoff grows: once it ends, one more failure earns twice as long.
        time.sleep(1.1)
        assert daemon.request("GET", "/v1/keys", key=wrong, source=ATTACKER).status == 401
        again = daemon.request("GET", "/v1/keys", key=wrong, source=ATTACKER)
        assert again.status == 429 and again.headers["Retry-After"] == "2", again
        assert daemon.issue().status == 200
        assert metric(daemon, 'signet_auth_failures_total{reason="unknown_api_key"}') >= 7
        assert metric(daemon, "signet_auth_backoffs_total") >= 2
        assert 'route="POST /v1/tokens",status="429"' in daemon.get("/metrics").text
        log = daemon.stderr()
        failures = [json.loads(line) for line in log.splitlines() if '"auth_failed"' in line]
        assert len(failures) >= 7
        assert failures[0]["address"] == ATTACKER and failures[0]["route"] == "POST /v1/tokens"
        assert failures[0]["reason"] == "unknown_api_key"
        assert wrong not in log and daemon.keys["webapp"] not in log


def basic(client_id, secret) -> dict:
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/x-www-form-urlencoded"}


def test_a_distributed_guess_at_one_client_spares_that_client(daemon):
    with daemon:
        form = "grant_type=client_credentials"
        codes = {}
        for last in range(10, 18):  # eight addresses, one wrong secret each for "webapp"
            source = f"127.0.0.{last}"
            first = daemon.request("POST", "/oauth2/token", form, headers=basic("webapp", "guess"), source=source)
            second = daemon.request("POST", "/oauth2/token", form, headers=basic("webapp", "guess"), source=source)
            codes[source] = (first.status, second.status)
        # Past the threshold (5) for the id, an address that fails for it once is in backoff.
        assert all(c == (401, 401) for c in list(codes.values())[:2]), codes
        assert list(codes.values())[-1] == (401, 429), codes
        # The real client, from an address that has not failed, gets its token.
        ok = daemon.request("POST", "/oauth2/token", form, headers=basic("webapp", daemon.keys["webapp"]))
        assert ok.status == 200, ok
        assert metric(daemon, 'signet_auth_failures_total{reason="wrong_client_secret"}') >= 8
        log = [json.loads(line) for line in daemon.stderr().splitlines() if '"auth_failed"' in line]
        assert {entry["client"] for entry in log} == {"webapp"}
        assert all(entry["route"] == "POST /oauth2/token" for entry in log)


# --- oversized bodies --------------------------------------------------------------------------

MEGABYTE = 1_000_000


def post_raw(daemon, body: bytes, headers=None, conn=None):
    """http.client, which sends the whole body before it reads (as python-requests does)."""
    own = conn is None
    conn = conn or daemon.connection()
    try:
        conn.request("POST", "/v1/tokens", body=body,
                     headers={"Authorization": f"Bearer {daemon.keys['webapp']}",
                              "Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        if own:
            conn.close()


def test_a_megabyte_body_gets_its_413_not_a_reset(daemon):
    daemon.config["limits"].update({"request_timeout": "10s"})
    with daemon:
        body = b"{" + b" " * (MEGABYTE - 2) + b"}"
        for _ in range(8):
            status, answer = post_raw(daemon, body)
            assert status == 413 and json.loads(answer)["error"] == "payload_too_large"
        # The body was read to its end: the connection stays usable.
        conn = daemon.connection()
        assert post_raw(daemon, body, conn=conn)[0] == 413
        assert daemon.issue(conn=conn).status == 200
        conn.close()

        import requests
        for _ in range(4):
            resp = requests.post(f"{daemon.base}/v1/tokens", data=body, verify=str(daemon.ca), timeout=10,
                                 headers={"Authorization": f"Bearer {daemon.keys['webapp']}",
                                          "Content-Type": "application/json"})
            assert resp.status_code == 413 and resp.json()["error"] == "payload_too_large"

        big = daemon.dir / "big.json"
        big.write_bytes(body)
        for expect in ([], ["-H", "Expect: 100-continue"], ["-H", "Expect:"]):
            out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", str(daemon.ca),
                                  "-H", f"Authorization: Bearer {daemon.keys['webapp']}",
                                  "-H", "Content-Type: application/json", *expect,
                                  "--data-binary", f"@{big}", f"{daemon.base}/v1/tokens"],
                                 capture_output=True, text=True, timeout=30)
            assert out.returncode == 0 and out.stdout == "413", (expect, out.stdout, out.stderr)


def test_a_body_announced_too_large_is_refused_before_it_is_sent(daemon):
    with daemon:
        # Expect: 100-continue: the client waits for our word, and gets the 413 instead.
        tls = daemon.ssl_context().wrap_socket(raw_socket(daemon, source="127.0.0.1"), server_hostname="127.0.0.1")
        tls.sendall((f"POST /v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {daemon.keys['webapp']}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 50000000\r\nExpect: 100-continue\r\n\r\n").encode())
        started = time.monotonic()
        resp = http.client.HTTPResponse(tls)
        resp.begin()
        assert resp.status == 413 and time.monotonic() - started < 1.0
        assert json.loads(resp.read())["error"] == "payload_too_large"
        tls.close()
