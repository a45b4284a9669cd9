"""A token request that waits for its audit ledger line holds no HTTP worker thread: its
connection is parked until the line (and, with anchor_interval 0s, the ledger's head in the
token) is durable, and the worker threads serve everyone else meanwhile."""
import json
import socket
import time

from faults import FaultySignet

STALL_MS = 4000  # each write of the ledger's head into the token, while the test holds it


def send_token_request(daemon, key: str):
    """Sends POST /v1/tokens on a TLS connection of its own and returns the socket unread."""
    body = json.dumps({"profile": "access", "sub": "alice"}).encode()
    raw = socket.create_connection(("127.0.0.1", daemon.port), timeout=30)
    tls = daemon.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1")
    tls.sendall(b"POST /v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key.encode() +
                b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
                b"\r\nConnection: close\r\n\r\n" + body)
    return tls


def read_status_and_body(tls) -> tuple:
    data = b""
    while chunk := tls.recv(65536):
        data += chunk
    tls.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_requests_waiting_for_the_ledger_leave_the_worker_threads_free(tmp_path):
    daemon = FaultySignet(tmp_path / "s")
    daemon.config["audit"] = {"file": "audit.log"}
    # Few worker threads: one signing slot, no signing queue, so 1 + one per core.
    daemon.config["limits"].update({"max_signing_concurrency": 1, "max_signing_queue": 0})
    waiting = 24  # more than the workers of any machine this runs on (1 + cores)
    with daemon:
        daemon.wait_ready()
        daemon.token()  # the key's first reservation is written to the token now, not under the stall
        daemon.control.latency(STALL_MS, "C_SetAttributeValue,C_CreateObject")  # the head's write into the token
        started = time.monotonic()
        sockets = []
        for _ in range(waiting):
            sockets.append(send_token_request(daemon, daemon.keys["webapp"]))
            time.sleep(0.02)  # one at a time through the single signing slot
        # All of them wait for the head, and none holds a worker: other requests are served.
        for _ in range(8):
            assert daemon.get("/.well-known/jwks.json", timeout=STALL_MS / 2000).status == 200
        parked = 0
        while parked < waiting and time.monotonic() - started < STALL_MS / 1000:
            parked = daemon.metric("signet_connections_parked")
        assert parked == waiting, f"{parked} of {waiting} parked"
        assert time.monotonic() - started < STALL_MS / 1000, "served only after the stall"
        daemon.control.clear()
        answers = [read_status_and_body(s) for s in sockets]
        assert [status for status, _ in answers] == [200] * waiting, answers
        assert daemon.metric("signet_connections_parked") == 0
    # Every token answered has its line.
    lines = [json.loads(line) for line in (daemon.dir / "audit.log").read_text().splitlines()]
    assert {body["jti"] for _, body in answers} <= {line["jti"] for line in lines}
