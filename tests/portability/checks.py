"""What every portability suite shows about one PKCS#11 implementation, written once.

A suite (test_<implementation>.py) defines the fixture `implementation`: a callable that takes a
folder and an algorithm and answers a provisioned, not yet started harness.Signet whose
`hsm.module` is that implementation; then it imports these tests with `from checks import *`.
It may override `preferred_algorithm` (ES256) for a token without it.

Which algorithms must work is not written down here: the token says which mechanisms it has
(the `hsm_token_profile` start log line), and Signet must sign with each of those and refuse, by
name, each of the others.
"""
import contextlib
import json
import re

import pytest

from harness import ALGORITHMS, split_token, verify

__all__ = ["test_start_log_says_what_the_token_offers_and_enforces", "test_each_algorithm_signs_or_is_refused_by_name",
           "test_ring_records_are_data_objects_in_the_token", "test_evidence_and_metrics_agree",
           "test_a_restart_adopts_the_same_key", "log_events", "profile_of", "preferred_algorithm", "started"]


@contextlib.contextmanager
def made_by(kind):
    """For a suite's `implementation` fixture: a maker of daemons of `kind` (folder, algorithm ->
    daemon) that closes every daemon it made afterwards."""
    made = []

    def make(folder, algorithm):
        made.append(kind(folder, algorithm))
        return made[-1]

    try:
        yield make
    finally:
        for daemon in made:
            daemon.close()


def log_events(daemon, event: str) -> list:
    """The start log's JSON lines with this event."""
    lines = []
    for line in daemon.stderr().splitlines():
        if f'"event":"{event}"' in line:
            lines.append(json.loads(line))
    return lines


def profile_of(daemon) -> dict:
    events = log_events(daemon, "hsm_token_profile")
    assert events, f"no hsm_token_profile line:\n{daemon.stderr()[-3000:]}"
    return events[0]


def metrics(daemon) -> str:
    resp = daemon.get("/metrics")
    assert resp.status == 200, resp
    return resp.text


def guarantee(daemon, name: str) -> int:
    match = re.search(rf'^signet_hsm_guarantee{{name="{name}"}} (\d)$', metrics(daemon), re.M)
    assert match, f"no guarantee {name} in /metrics"
    return int(match.group(1))


def keys(daemon) -> list:
    resp = daemon.get("/v1/keys", key=daemon.keys["ops"])
    assert resp.status == 200, resp
    return resp.json()["keys"]


@pytest.fixture(scope="module")
def preferred_algorithm():
    return "ES256"


@pytest.fixture(scope="module")
def started(implementation, preferred_algorithm, tmp_path_factory):
    """One daemon on the implementation, for the tests that need any running one."""
    daemon = implementation(tmp_path_factory.mktemp(preferred_algorithm), preferred_algorithm)
    daemon.algorithm = preferred_algorithm
    with daemon:
        yield daemon


def test_start_log_says_what_the_token_offers_and_enforces(started):
    profile = profile_of(started)
    print("hsm_token_profile:", json.dumps(profile))
    assert started.algorithm in profile["schemes"].split(",")
    said = log_events(started, "hsm_guarantees")
    assert said, started.stderr()[-3000:]
    print("hsm_guarantees:", json.dumps(said[0]))
    enforced = said[0]["enforced_by_token"].split(",")
    for promise in ("sensitive", "never_extractable", "local", "sign_only"):
        assert promise in enforced
    # The PIN never reaches the log.
    assert started.pin not in started.stderr()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_each_algorithm_signs_or_is_refused_by_name(implementation, started, tmp_path, algorithm):
    offered = profile_of(started)["schemes"].split(",")
    daemon = implementation(tmp_path / algorithm, algorithm)
    if algorithm not in offered:
        done = daemon.run_signetd()
        assert done.returncode == 3, done.stderr
        assert f"cannot sign {algorithm}: it lacks CKM_" in done.stderr, done.stderr
        return
    with daemon:
        token = daemon.token()
        header, _ = split_token(token)
        assert header["alg"] == algorithm
        claims = verify(token, daemon.jwks(), algorithm, audience="platxa-api", issuer=daemon.issuer)
        assert claims["sub"] == "alice"
        listed = keys(daemon)
        assert listed and all(k["alg"] == algorithm for k in listed)


def test_ring_records_are_data_objects_in_the_token(started):
    """The ring record, the lease and the usage record live in the token as CKO_DATA objects,
    seen through the same module signetd uses. The usage record is written at the first token."""
    started.token()
    listing = started.p11tool("--list-objects", "--type", "data")
    labels = set(re.findall(r"label:\s+'([^']+)'", listing))
    assert "signet:ring" in labels, listing
    assert any(label.startswith("signet:lease:") for label in labels), listing
    assert any(label.startswith("signet:usage:") for label in labels), listing


def test_evidence_and_metrics_agree(started):
    listed = keys(started)
    assert listed
    for key in listed:
        evidence = key["evidence"]
        assert evidence["local"] and evidence["always_sensitive"] and evidence["never_extractable"]
        assert isinstance(evidence["allowed_mechanisms"], bool)
        assert guarantee(started, "allowed_mechanisms") == int(evidence["allowed_mechanisms"])
    for promise in ("sensitive", "never_extractable", "local", "sign_only"):
        assert guarantee(started, promise) == 1


def test_a_restart_adopts_the_same_key(started):
    before = {k["kid"] for k in keys(started) if k["state"] == "active"}
    token = started.token()
    started.restart()
    after = {k["kid"] for k in keys(started) if k["state"] == "active"}
    assert before == after
    verify(token, started.jwks(), started.algorithm, audience="platxa-api", issuer=started.issuer)
