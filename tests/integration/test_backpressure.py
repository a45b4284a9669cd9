"""Backpressure: a burst beyond what the HSM can sign is answered at once with 503 `overloaded`
and Retry-After instead of a latency that grows with the backlog; every other answer is a valid
token, and /metrics counts each refusal.

Saturation is certain by construction, not by timing: one signature at a time
(`max_signing_concurrency` 1), a queue of one and a wait of 1 ms, against RSA-4096 keys
(milliseconds per signature in SoftHSM2) and 32 clients in a closed loop on connections whose
TLS handshakes are done before they all start together. Whenever three requests reach the gate
at once, one is refused (and most that queue give up after 1 ms); the daemon has at least three
worker threads (one per slot, per queued caller and per core), and a closed loop of 32 clients
keeps every one of them busy with a request that is bound for the gate."""
import re
import threading

import pytest

import harness
from harness import Signet, split_token, verify

CLIENTS = 32
REQUESTS_EACH = 6


@pytest.fixture(scope="module")
def slow_signer(tmp_path_factory):
    daemon = Signet(tmp_path_factory.mktemp("signet"), algorithm="RS256")
    daemon.config["keys"]["rsa_bits"] = 4096
    daemon.config["limits"].update(max_signing_concurrency=1, max_signing_queue=1, max_signing_wait_ms=1)
    saved, harness.START_TIMEOUT = harness.START_TIMEOUT, 120  # RSA-4096 key generation is slow
    try:
        daemon.start()
    finally:
        harness.START_TIMEOUT = saved
    yield daemon
    daemon.stop()


def burst(daemon):
    """CLIENTS threads, each on its own keep-alive connection, REQUESTS_EACH token requests."""
    conns = [daemon.connection(timeout=60) for _ in range(CLIENTS)]
    for conn in conns:
        conn.connect()  # the handshakes first, so that the requests themselves arrive together
    start = threading.Barrier(CLIENTS)
    answers = [[] for _ in range(CLIENTS)]
    failures = []

    def client(i):
        try:
            start.wait()
            for n in range(REQUESTS_EACH):
                answers[i].append(daemon.issue(conn=conns[i], sub=f"user-{i}-{n}"))
        except Exception as e:  # reported below: a thread's exception would otherwise vanish
            failures.append(repr(e))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for conn in conns:
        conn.close()
    assert not failures, failures
    return [a for per_client in answers for a in per_client]


def metric(text, name):
    """The sum of every sample of a metric (all label sets)."""
    values = re.findall(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    assert values, f"{name} is not in /metrics"
    return sum(float(v) for v in values)


def test_a_burst_beyond_the_hsm_is_refused_early_with_retry_after(slow_signer):
    daemon = slow_signer
    answers = burst(daemon)
    assert len(answers) == CLIENTS * REQUESTS_EACH
    assert {a.status for a in answers} <= {200, 503}, sorted({a.status for a in answers})

    refused = [a for a in answers if a.status == 503]
    assert refused, "the burst never saturated the signing gate"
    for a in refused:
        body = a.json()
        assert body["error"] == "overloaded", a
        assert body["error_description"].strip()
        assert int(a.headers["Retry-After"]) >= 1, a.headers

    issued = [a for a in answers if a.status == 200]
    assert issued, "nothing was signed during the burst"
    jwks = daemon.jwks()
    subs = set()
    for a in issued:
        token = a.json()["token"]
        claims = verify(token, jwks, "RS256", audience="platxa-api", issuer=daemon.issuer)
        assert split_token(token)[0]["kid"] == a.json()["kid"]
        subs.add(claims["sub"])
    assert len(subs) == len(issued)  # each answer is the token its own request asked for

    text = daemon.get("/metrics").text
    assert metric(text, "signet_signing_refused_total") == len(refused)
    assert metric(text, "signet_signing_queue_depth") == 0  # the burst is over: nobody waits
    assert metric(text, "signet_signing_in_flight") == 0
    assert 'route="POST /v1/tokens",status="503"' in text

    # The refusals cost nothing lasting: the next request is signed.
    assert daemon.issue().status == 200
