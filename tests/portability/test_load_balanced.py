"""Two signetd replicas on two hosts' addresses (127.0.0.1 and 127.0.0.2, a port each) sharing one
token through `p11-kit server` (each loads p11-kit-client.so, as two boxes in front of one network
HSM would), behind HAProxy as the load balancer (docs/HSMS.md, "Several replicas on one HSM").

The balancer passes TLS through (`mode tcp`: the replicas keep their certificates and see the
clients' TLS), balances connections round robin, and checks each replica's `GET /readyz` over TLS
(`check-ssl verify none`), so that a replica that cannot sign is taken out.

What a "retry" is here: HAProxy retries a connection that cannot be made (`retries 3` with
`option redispatch 1`: each retry goes to another server), which covers a killed replica until
its health check has failed. A request already sent on a connection to the replica that dies is
lost with the connection, and no TCP balancer can replay it: the client sees a connection error
(reset or end of stream, never an HTTP status) and sends the request again on a new connection
through the balancer. POST /v1/tokens may be repeated: a repeat signs one more token, nothing else.
"""
import copy
import http.client
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from contextlib import ExitStack

import pytest

import remoted
from harness import free_port, run, split_token, verify
from rotation import active_kid, admin, quick, replica_of, wait_next_may_sign

if remoted.unavailable():
    pytest.skip(f"portability suite not run: {remoted.unavailable()}", allow_module_level=True)

ALG = "ES256"
REFRESH = 1.0  # keys.refresh_interval in rotation.quick()
HEALTH_INTERVAL = 0.5  # HAProxy's `inter`; a replica is down after `fall 2` failed checks
LOAD_SECONDS = 4.0  # each throughput measurement
LOAD_CONNECTIONS = 8  # client connections (threads) for the throughput and kill loops
# HAProxy's tcplog line: ... frontend backend/server Tw/Tc/Tt bytes STATE act/fe/be/srv/RETRIES ...
TCPLOG = re.compile(r" replicas/\w+ \S+ \d+ (?P<state>\S\S) \d+/\d+/\d+/\d+/(?P<retries>\+?\d+) ")


class Replica(remoted.RemotedSignet):
    """A RemotedSignet that listens on, and is reached at, an address of its own."""
    host = "127.0.0.1"

    def connection(self, timeout=10.0, context=None, source=None) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=context or self.ssl_context(),
                                           source_address=(source, 0) if source else None)


def recertify(daemon: Replica) -> None:
    """The server certificate again, from its key, for both replicas' addresses and localhost."""
    tls = daemon.dir / "tls"
    (tls / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", "2",
         "-sha256", "-days", "2", "-extfile", "server.ext", "-out", "server.crt"], cwd=tls)


class Balancer:
    """HAProxy in front of the replicas; its admin socket reports and changes server states."""

    def __init__(self, folder, socket_dir, servers: dict):
        self.port = free_port()
        self.admin = socket_dir / "haproxy.sock"
        self.config = folder / "haproxy.cfg"
        self.log_file = folder / "haproxy.log"
        lines = "\n".join(f"    server {name} {addr}" for name, addr in servers.items())
        self.config.write_text(f"""global
    log stderr format raw local0 info
    stats socket {self.admin} mode 600 level admin
    maxconn 512

defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    retries 3
    option redispatch 1

frontend signet
    bind 127.0.0.1:{self.port}
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    default-server check check-ssl verify none inter {int(HEALTH_INTERVAL * 1000)}ms fall 2 rise 1
{lines}
""")
        run(["haproxy", "-c", "-q", "-f", str(self.config)])
        self.log = open(self.log_file, "ab")
        # -db: in the foreground, a child of this process, stopped by its pid.
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", str(self.config)], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.admin))
            s.sendall(line.encode() + b"\n")
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        return out.decode()

    def states(self) -> dict:
        """Server name -> status ("UP", "DOWN", "MAINT", ...) from `show stat`."""
        rows = self.command("show stat").splitlines()
        header = rows[0].lstrip("# ").split(",")
        states = {}
        for row in rows[1:]:
            cells = dict(zip(header, row.split(",")))
            if cells.get("pxname") == "replicas" and cells.get("svname") not in (None, "BACKEND"):
                states[cells["svname"]] = cells["status"]
        return states

    def wait_states(self, wanted: dict, timeout=10.0) -> float:
        """Waits until each named server has its wanted status; returns how long that took."""
        start = time.monotonic()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"haproxy exited with {self.proc.returncode}:\n{self.log_file.read_text()}")
            try:
                states = self.states()
            except OSError:
                states = {}
            if all(states.get(name, "").startswith(status) for name, status in wanted.items()):
                return time.monotonic() - start
            assert time.monotonic() - start < timeout, f"balancer states {states}, wanted {wanted}"
            time.sleep(0.05)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def signed_total(daemon) -> int:
    """Tokens this replica signed since it started (signet_tokens_signed_total, all kids)."""
    resp = daemon.get("/metrics")
    assert resp.status == 200, resp
    return sum(int(n) for n in re.findall(r"^signet_tokens_signed_total\{[^}]*\} (\d+)$", resp.text, re.M))


def jwks_response(daemon):
    resp = daemon.get("/.well-known/jwks.json")
    assert resp.status == 200, resp
    return resp


def converge(a, b, timeout) -> float:
    """Waits until a and b serve the same JWKS bytes and ETag; returns how long that took."""
    start = time.monotonic()
    while True:
        ra, rb = jwks_response(a), jwks_response(b)
        if ra.body == rb.body and ra.headers["ETag"] == rb.headers["ETag"]:
            return time.monotonic() - start
        assert time.monotonic() - start < timeout, "the replicas' JWKS did not converge"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if shutil.which("haproxy") is None:
        pytest.fail("haproxy is not installed: tools/install-deps installs it (Debian package haproxy)", pytrace=False)
    with ExitStack() as stack:
        a = Replica(tmp_path_factory.mktemp("lb"), ALG)
        stack.callback(a.close)  # the daemon, then the p11-kit server
        quick(a, rotate_every="1h")
        recertify(a)
        b = replica_of(a, "replica-b")
        b.host = "127.0.0.2"
        b.config["listen"]["address"] = b.host
        stack.callback(b.stop, signal.SIGKILL)  # a no-op once stopped
        a.start()
        b.start()
        lb = Balancer(a.dir, a.socket_dir, {"a": f"127.0.0.1:{a.port}", "b": f"127.0.0.2:{b.port}"})
        stack.callback(lb.close)
        took = lb.wait_states({"a": "UP", "b": "UP"})
        print(f"\nbalancer 127.0.0.1:{lb.port}: both replicas UP {took:.2f} s after its start")
        # The balancer as a client sees it: a Signet-like handle whose address is the frontend's.
        front = copy.copy(a)
        front.port, front.proc = lb.port, None
        yield a, b, lb, front


def test_tokens_through_the_balancer_come_from_both_and_verify_everywhere(cluster):
    a, b, lb, front = cluster
    converge(a, b, timeout=REFRESH + 5)
    before = signed_total(a), signed_total(b)
    tokens = [front.token() for _ in range(20)]  # a new connection each: round robin alternates
    by_a, by_b = signed_total(a) - before[0], signed_total(b) - before[1]
    print(f"20 tokens through the balancer: {by_a} signed by 127.0.0.1, {by_b} by 127.0.0.2")
    assert by_a > 0 and by_b > 0, (by_a, by_b)
    assert by_a + by_b == len(tokens)
    for jwks in (a.jwks(), b.jwks(), front.jwks(), front.jwks()):
        for token in tokens:
            verify(token, jwks, ALG, audience="platxa-api", issuer=a.issuer)


def test_both_replicas_serve_the_same_jwks_bytes_and_etag(cluster):
    a, b, lb, front = cluster
    converge(a, b, timeout=REFRESH + 5)
    ra, rb = jwks_response(a), jwks_response(b)
    assert ra.body == rb.body and ra.headers["ETag"] == rb.headers["ETag"]
    # Through the balancer (each fetch a new connection, so both replicas answer): one ETag.
    through = [jwks_response(front) for _ in range(4)]
    assert {r.headers["ETag"] for r in through} == {ra.headers["ETag"]}
    assert {r.body for r in through} == {ra.body}
    # A cache holding either replica's ETag is told 304 by the other.
    resp = b.get("/.well-known/jwks.json", headers={"If-None-Match": ra.headers["ETag"]})
    assert resp.status == 304, resp
    print(f"JWKS: {len(ra.body)} bytes, ETag {ra.headers['ETag']} on both replicas and the balancer")


def test_a_rotation_asked_of_one_reaches_the_other(cluster):
    a, b, lb, front = cluster
    bound = REFRESH + 1.0
    for asked, other in ((a, b), (b, a)):
        wait_next_may_sign(asked)
        old = active_kid(other)
        resp = admin(asked, "POST", "/v1/keys/rotate")
        assert resp.status == 200 and resp.json()["rotated"] is True, resp
        new = active_kid(asked)
        assert new != old
        # From the asked replica's answer to the other's JWKS and active key.
        start = time.monotonic()
        converge(asked, other, timeout=bound)
        while active_kid(other) != new:
            assert time.monotonic() - start < bound, "the other replica's active key did not change"
            time.sleep(0.05)
        print(f"rotation asked of {asked.host}: {old[:8]}.. -> {new[:8]}.., "
              f"{other.host} followed in {time.monotonic() - start:.2f} s (bound {bound} s)")
        # Both replicas sign with the new key, through the balancer.
        kids = {split_token(front.token())[0]["kid"] for _ in range(6)}
        assert kids == {new}, kids


class Loop:
    """`connections` threads, each with a keep-alive connection through the balancer, issuing
    tokens until stopped. A request that meets a connection error is sent again on a new
    connection (up to 3 attempts); an HTTP status other than 200 is never retried."""

    def __init__(self, front, connections=LOAD_CONNECTIONS):
        self.front, self.stop_at = front, threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.statuses = {}  # non-200 answers
        self.errors = []  # (time, error) of failed attempts
        self.retried = []  # (attempts, seconds from first attempt to 200) of requests that needed more than one
        self.failed = 0  # requests that failed all their attempts
        self.tokens = []  # a sample, for verification
        self.threads = [threading.Thread(target=self.run) for _ in range(connections)]

    def run(self):
        conn = None
        while not self.stop_at.is_set():
            first, attempts = time.monotonic(), 0
            while True:
                attempts += 1
                try:
                    conn = conn or self.front.connection(timeout=10)
                    resp = self.front.issue(conn=conn)
                    break
                except (OSError, http.client.HTTPException) as e:
                    with self.lock:
                        self.errors.append((time.monotonic(), f"{type(e).__name__}: {e}"))
                    conn.close()
                    conn = None
                    if attempts == 3:
                        resp = None
                        break
            with self.lock:
                if resp is None:
                    self.failed += 1
                elif resp.status != 200:
                    self.statuses[resp.status] = self.statuses.get(resp.status, 0) + 1
                else:
                    self.ok += 1
                    if attempts > 1:
                        self.retried.append((attempts, time.monotonic() - first))
                    if len(self.tokens) < 200:
                        self.tokens.append(resp.json()["token"])
        if conn is not None:
            conn.close()

    def __enter__(self):
        self.started = time.monotonic()
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_at.set()
        for t in self.threads:
            t.join(timeout=30)
        self.seconds = time.monotonic() - self.started

    def rate(self) -> float:
        return self.ok / self.seconds


def test_throughput_with_one_and_with_two_replicas(cluster):
    """Measured, printed (pytest -s), never asserted: the machine decides the figures."""
    a, b, lb, front = cluster
    lb.command("disable server replicas/b")
    try:
        lb.wait_states({"a": "UP", "b": "MAINT"})
        with Loop(front) as one:
            time.sleep(LOAD_SECONDS)  # the measurement's duration, not a wait for a condition
    finally:
        lb.command("enable server replicas/b")
    lb.wait_states({"a": "UP", "b": "UP"})
    before = signed_total(a), signed_total(b)
    with Loop(front) as two:
        time.sleep(LOAD_SECONDS)
    shares = signed_total(a) - before[0], signed_total(b) - before[1]
    for loop in (one, two):
        assert loop.ok > 0 and not loop.statuses and not loop.errors and not loop.failed, vars(loop)
    assert min(shares) > 0, shares
    print(f"throughput through the balancer, {LOAD_CONNECTIONS} keep-alive connections (Python threads), "
          f"{LOAD_SECONDS:.0f} s each, {ALG}, token via p11-kit server:\n"
          f"  one replica:  {one.rate():7.1f} tokens/s ({one.ok} tokens)\n"
          f"  two replicas: {two.rate():7.1f} tokens/s ({two.ok} tokens; {shares[0]} by 127.0.0.1, "
          f"{shares[1]} by 127.0.0.2), {two.rate() / one.rate():.2f}x")


def test_killing_a_replica_loses_no_request(cluster):
    a, b, lb, front = cluster
    lb.wait_states({"a": "UP", "b": "UP"})
    before_b = signed_total(b)
    with Loop(front) as loop:
        # Kill only once the loop's connections are being served by both replicas.
        deadline = time.monotonic() + 10
        while signed_total(b) - before_b < 20:
            assert time.monotonic() < deadline, "replica b got no requests through the balancer"
            time.sleep(0.05)
        killed_at = time.monotonic()
        b.stop(signal.SIGKILL)
        down_after = lb.wait_states({"b": "DOWN"}, timeout=10)
        # Keep the loop going on the survivor until it has served a good while after the kill.
        ok_at_down = loop.ok
        deadline = time.monotonic() + 10
        while loop.ok - ok_at_down < 200:
            assert time.monotonic() < deadline, "the survivor served too few requests after the kill"
            time.sleep(0.05)
    lb.wait_states({"a": "UP", "b": "DOWN"})
    errors = [(round(t - killed_at, 3), what) for t, what in loop.errors]
    worst = max((s for _, s in loop.retried), default=0.0)
    print(f"SIGKILL of 127.0.0.2 under {LOAD_CONNECTIONS} client connections: {loop.ok} tokens in "
          f"{loop.seconds:.1f} s; balancer marked it DOWN {down_after:.2f} s after the kill; "
          f"{len(loop.retried)} requests needed a second attempt (slowest {worst * 1000:.0f} ms to its 200); "
          f"failed attempts (s after the kill, error): {errors}")
    print("haproxy's log of the connections that did not end normally, and of the server states:\n" + "\n".join(
        line for line in lb.log_file.read_text().splitlines()
        if line.startswith("Server replicas/") or (m := TCPLOG.search(line)) and (m["state"] != "--" or m["retries"] != "0")))
    # No request lost: every one ended in a 200 within its three attempts, none with another status.
    assert loop.failed == 0 and not loop.statuses, (loop.failed, loop.statuses)
    assert len(loop.errors) == sum(attempts - 1 for attempts, _ in loop.retried), errors
    # The failed attempts are the connections the killed replica held or had just accepted (a
    # connection the kernel completes in its listen backlog while the process dies breaks too),
    # all before the balancer took it out: none after that.
    assert all(0 <= t <= down_after + 2 * HEALTH_INTERVAL for t, _ in errors), (down_after, errors)
    assert len(loop.errors) <= 2 * LOAD_CONNECTIONS, errors
    # The survivor's tokens verify against its JWKS.
    jwks = a.jwks()
    for token in loop.tokens:
        verify(token, jwks, ALG, audience="platxa-api", issuer=a.issuer)
