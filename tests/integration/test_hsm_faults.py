"""The HSM fails, reboots, fills up or is absent, and Signet keeps every key and recovers by
itself. The real signetd talks to SoftHSM2 through libsignet-p11fault.so (tests/p11fault), a
pass-through module that this test drives through its control file.

In every scenario: no 500, every token issued before the fault still verifies against the
JWKS, the kids do not change, and no key pair is destroyed in the token."""
import re
import signal
import threading
import time
from collections import Counter

import pytest

from faults import RECOVERY_TIMEOUT, FaultySignet, trace_lines
from harness import Signet, split_token, verify

@pytest.fixture
def faulty(tmp_path):
    s = FaultySignet(tmp_path / "signet")
    s.config["limits"]["requests_per_second_per_client"] = 0
    yield s
    if s.proc is not None:
        s.stop()


class Load:
    """Clients that ask for tokens back to back on keep-alive connections, counting answers."""

    def __init__(self, signet: Signet, clients=4):
        self.signet = signet
        self.statuses = Counter()
        self.without_retry_after = 0
        self.tokens = []
        self.stop_flag = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(clients)]

    def run(self):
        conn = None
        while not self.stop_flag.is_set():
            try:
                conn = conn or self.signet.connection(timeout=10)
                resp = self.signet.issue(conn=conn)
            except OSError:
                conn = None
                self.statuses["connection_error"] += 1
                time.sleep(0.05)
                continue
            self.statuses[resp.status] += 1
            if resp.status == 200:
                self.tokens.append(resp.json()["token"])
            elif resp.status == 503 and "Retry-After" not in resp.headers:
                self.without_retry_after += 1
            if resp.status != 200:
                time.sleep(0.02)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=15)


def assert_nothing_lost(signet: FaultySignet, before_tokens, kids_before, labels_before):
    """Every token from before still verifies with the JWKS; kids and key pairs are all there."""
    jwks = signet.jwks()
    kids_now = {k["kid"] for k in jwks["keys"]}
    assert kids_before <= kids_now, (kids_before, kids_now)
    for token in before_tokens:
        verify(token, jwks, "ES256", audience="platxa-api", issuer=signet.issuer)
    labels_now = signet.key_labels()
    assert labels_before <= labels_now
    assert "orphan_key_destroyed" not in signet.stderr()
    print(f"  key pairs in the token {len(labels_before)} -> {len(labels_now)}, kids kept {len(kids_before)}, "
          f"earlier tokens verified {len(before_tokens)}")


def baseline(signet: FaultySignet):
    tokens = [signet.token() for _ in range(3)]
    return tokens, {k["kid"] for k in signet.jwks()["keys"]}, signet.key_labels()


def test_outage_under_load_answers_503_and_recovers(faulty):
    with faulty:
        faulty.wait_ready()
        before = baseline(faulty)
        with Load(faulty) as load:
            time.sleep(1)
            faulty.control.fail("*", "CKR_DEVICE_ERROR")
            time.sleep(3)
            faulty.control.clear()
            recovered_in = faulty.wait_ready()
            time.sleep(1)
        print(f"outage under load: {dict(load.statuses)}, ready {recovered_in:.2f} s after the HSM came back")
        assert load.statuses[500] == 0, load.statuses
        assert set(load.statuses) <= {200, 503}, load.statuses
        assert load.statuses[503] > 0 and load.without_retry_after == 0, load.statuses
        assert faulty.issue().status == 200
        assert_nothing_lost(faulty, before[0] + load.tokens[:20], before[1], before[2])
        assert faulty.metric("signet_hsm_recoveries_total") >= 1
        assert faulty.metric("signet_hsm_up") == 1


def test_reboot_logs_in_again_and_finds_the_keys(faulty):
    with faulty:
        faulty.wait_ready()
        before = baseline(faulty)
        with Load(faulty, clients=2) as load:
            time.sleep(0.5)
            faulty.control.reboot()
            recovered_in = faulty.wait_ready()
            time.sleep(1)
        print(f"reboot under load: {dict(load.statuses)}, ready again after {recovered_in:.2f} s")
        assert load.statuses[500] == 0 and set(load.statuses) <= {200, 503}, load.statuses
        assert faulty.issue().status == 200
        # Signed with the same active key as before the reboot.
        kid_after = split_token(faulty.token())[0]["kid"]
        assert kid_after == split_token(before[0][0])[0]["kid"]
        assert_nothing_lost(faulty, before[0], before[1], before[2])
        assert '"event":"hsm_recovered"' in faulty.stderr()
        assert "ring_changed\",\"keys\":\"0\"" not in faulty.stderr()


def test_absent_at_start_serves_once_the_token_appears(faulty):
    faulty.control.fail("C_GetSlotList", "CKR_TOKEN_NOT_PRESENT")
    with faulty:
        assert faulty.get("/readyz").status == 503
        assert faulty.get("/.well-known/jwks.json").status == 503
        resp = faulty.issue()
        assert resp.status == 503 and resp.json()["error"] == "hsm_unavailable" and "Retry-After" in resp.headers
        time.sleep(1)
        faulty.control.clear()
        print(f"absent at start: ready {faulty.wait_ready():.2f} s after the token appeared")
        assert faulty.issue().status == 200
        assert len(faulty.jwks()["keys"]) >= 1


def test_wrong_pin_after_a_reboot_is_tried_once(faulty):
    with faulty:
        faulty.wait_ready()
        faulty.pin_file.write_text("not-the-pin")
        faulty.control.reboot()
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        while "hsm_failed" not in faulty.stderr():
            assert time.monotonic() < deadline, faulty.stderr()[-3000:]
            time.sleep(0.2)
        time.sleep(2)  # a retry, if there were one, would come within this
        logins = [rv for name, rv in trace_lines(faulty.trace) if name == "C_Login"]
        assert logins.count("CKR_PIN_INCORRECT") == 1, logins
        ready = faulty.get("/readyz")
        assert ready.status == 503 and "cannot be used" in ready.json()["reason"], ready
        assert faulty.issue().status == 503
        assert "not-the-pin" not in faulty.stderr()
        assert faulty.metric("signet_hsm_up") == 0


def test_pin_from_the_environment_leaves_it_and_still_logs_in_again(faulty):
    """hsm.pin_env is moved out of the environment at start (/proc/PID/environ no longer shows
    it) and kept in locked memory, from where the login after a reboot takes it."""
    faulty.config["hsm"].pop("pin_file")
    faulty.config["hsm"]["pin_env"] = "SIGNET_TEST_PIN"
    faulty.extra_env["SIGNET_TEST_PIN"] = faulty.pin
    with faulty:
        faulty.wait_ready()
        with open(f"/proc/{faulty.proc.pid}/environ", "rb") as environ:
            assert faulty.pin.encode() not in environ.read()
        faulty.control.reboot()
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        while '"event":"hsm_recovered"' not in faulty.stderr():
            assert time.monotonic() < deadline, faulty.stderr()[-3000:]
            time.sleep(0.1)
        faulty.wait_ready()
        assert faulty.issue().status == 200


def test_slow_hsm_is_refused_by_the_signing_gate(faulty):
    faulty.config["limits"].update({"max_signing_concurrency": 2, "max_signing_queue": 4, "max_signing_wait_ms": 250})
    with faulty:
        faulty.wait_ready()
        before = baseline(faulty)
        faulty.control.latency(200, "C_Sign")
        latencies = []
        lock = threading.Lock()
        statuses = Counter()

        def client():
            for _ in range(6):
                started = time.monotonic()
                resp = faulty.issue()
                with lock:
                    latencies.append(time.monotonic() - started)
                    statuses[(resp.status, resp.json().get("error"))] += 1

        threads = [threading.Thread(target=client) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        faulty.control.clear()
        print(f"slow HSM: {dict(statuses)}, slowest answer {max(latencies):.2f} s")
        assert statuses[(503, "overloaded")] > 0, statuses
        assert statuses[(200, None)] > 0, statuses
        assert {s for s, _ in statuses} <= {200, 503}, statuses
        # The queue is bounded: nobody waits behind a backlog (a signature takes 0.2 s here).
        assert max(latencies) < 5, max(latencies)
        assert_nothing_lost(faulty, before[0], before[1], before[2])


def test_full_token_keeps_signing_and_reports_the_failed_rotation(faulty):
    # A rotation every 20 tokens, with a next key that may sign two seconds after its birth.
    faulty.config["keys"].update({"max_tokens_per_key": 20, "prepublish": "1s", "refresh_interval": "1s"})
    faulty.config["jwks"]["max_age"] = "1s"
    with faulty:
        faulty.wait_ready()
        time.sleep(2.5)  # the next key is published long enough to take over
        before = baseline(faulty)
        # The token is full: it holds what it holds now and not one object more.
        objects = len(re.findall(r"^(Private Key|Public Key|Data) object", faulty.p11tool("--list-objects"), re.M | re.I))
        faulty.control.capacity(objects)
        # Promotion needs only the record and the reservations, which are rewritten in the room
        # of their old objects; the key that should follow the new active one cannot be made.
        # SoftHSM2's file store now and then answers CKR_GENERAL_ERROR to the create that follows
        # the destroy of a rewrite, while the rotation job reads the token: the Hsm then
        # reconnects, and those requests get 503 with Retry-After. Issuance goes on.
        answers = [faulty.issue() for _ in range(80)]
        statuses = Counter(a.status for a in answers)
        print(f"full token: {dict(statuses)}")
        assert set(statuses) <= {200, 503} and statuses[200] >= 40, statuses
        assert all("Retry-After" in a.headers for a in answers if a.status == 503)
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        while faulty.issue().status != 200:  # still signing on the full token
            assert time.monotonic() < deadline, faulty.stderr()[-3000:]
            time.sleep(0.2)
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        while faulty.metric("signet_rotation_failures_total") < 1:
            assert time.monotonic() < deadline, faulty.stderr()[-3000:]
            time.sleep(0.5)
        assert "CKR_DEVICE_MEMORY" in faulty.stderr()
        assert faulty.metric("signet_hsm_up") == 1
        faulty.control.clear()
        assert_nothing_lost(faulty, before[0], before[1], before[2])


def delete_record(signet: FaultySignet):
    signet.p11tool("--delete-object", "--type", "data", "--label", "signet:ring")


def test_lost_record_adopts_every_key_and_keeps_the_active_one(faulty):
    with faulty:
        faulty.wait_ready()
        before = baseline(faulty)
        active_kid = split_token(before[0][0])[0]["kid"]
    delete_record(faulty)
    with faulty:
        faulty.wait_ready()
        assert "key_adopted" in faulty.stderr()
        assert split_token(faulty.token())[0]["kid"] == active_kid
        assert_nothing_lost(faulty, before[0], before[1], before[2])


def test_damaged_record_is_kept_and_every_key_adopted(faulty):
    with faulty:
        faulty.wait_ready()
        before = baseline(faulty)
    delete_record(faulty)
    garbage = faulty.dir / "garbage"
    garbage.write_bytes(b"00000000000000000099 {not json at all")
    faulty.p11tool("--write-object", str(garbage), "--type", "data", "--label", "signet:ring",
                   "--application-label", "signet", "--private")
    with faulty:
        faulty.wait_ready()
        assert "ring_record_damaged" in faulty.stderr()
        assert "signet:ring:damaged" in faulty.p11tool("--list-objects", "--type", "data")
        assert faulty.issue().status == 200
        assert_nothing_lost(faulty, before[0], before[1], before[2])


def test_kill_during_recovery_loses_nothing(faulty):
    with faulty:
        faulty.wait_ready()
        before = baseline(faulty)
        faulty.control.fail("*", "CKR_DEVICE_ERROR")
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        while "hsm_reconnect_failed" not in faulty.stderr():
            assert time.monotonic() < deadline, faulty.stderr()[-3000:]
            time.sleep(0.1)
        faulty.proc.send_signal(signal.SIGKILL)
        faulty.proc.wait()
        faulty.proc = None
    faulty.control.clear()
    with faulty:
        faulty.wait_ready()
        assert faulty.issue().status == 200
        assert_nothing_lost(faulty, before[0], before[1], before[2])
