"""The long rotation run: two replicas on one token, rotating every few seconds, while the test
kills them (at random moments and at random lifecycle steps, through SIGNET_FAILPOINT), makes
the HSM fail and reboots it. Relying parties that cache the JWKS exactly as Cache-Control allows
verify every token when it is issued and again just before it expires.

What must hold throughout: no valid token ever fails verification, no answer is a 500, and the
token holds no more key pairs than the ring publishes (next + active + retiring), but for an
interrupted generation that the next repair removes.

In CI it runs short: SIGNET_LONG_RUN_ROTATIONS (default 12, about a minute and a half) sets
the length; 100 rotations take about eight minutes. SIGNET_LONG_RUN_SEED replays a run: the seed
is printed at the start."""
import os
import random
import re
import signal
import time

from faults import FaultySignet
from harness import split_token, verify
from rotation import QUICK_TTL, quick, replica_of, token_private_keys

ROTATIONS = int(os.environ.get("SIGNET_LONG_RUN_ROTATIONS", "12"))
SEED = int(os.environ.get("SIGNET_LONG_RUN_SEED", str(int(time.time()))))
# The lifecycle steps a replica can be made to die at (docs/API.md, "Key lifecycle").
FAILPOINTS = ["after_generate", "after_record_next", "after_promote", "after_record_destroy", "after_destroy",
              "after_repair"]
MAX_PUBLISHED = 4


class Party:
    """A relying party behind the load balancer: it fetches the JWKS from whichever replica
    answers and keeps it for max-age, never longer."""

    def __init__(self, replicas):
        self.replicas = replicas
        self.jwks, self.expires, self.fetches = None, 0.0, 0
        self.source, self.fetched_at, self.unfetched = None, 0.0, 0  # for the failure report

    def keys(self):
        if self.jwks is None or time.monotonic() >= self.expires:
            for replica in self.replicas:
                if replica.proc is None:
                    continue
                try:
                    resp = replica.get("/.well-known/jwks.json", timeout=5)
                except OSError:
                    continue
                if resp.status == 200:
                    max_age = int(re.search(r"max-age=(\d+)", resp.headers["Cache-Control"]).group(1))
                    self.jwks, self.expires = resp.json(), time.monotonic() + max_age
                    self.fetches += 1
                    self.source, self.fetched_at = replica.port, time.monotonic()
                    break
            else:
                self.unfetched += 1  # no replica served the set: the old one is used past its max-age
        return self.jwks

    def accepts(self, token, issuer) -> bool:
        keys = self.keys()
        kid = split_token(token)[0]["kid"]
        if keys is None or not any(k["kid"] == kid for k in keys["keys"]):
            return False
        verify(token, keys, "ES256", audience="platxa-api", issuer=issuer)
        return True


class Run:
    def __init__(self, a, b):
        self.replicas = [a, b]
        self.rng = random.Random(SEED)
        self.parties = [Party([a, b]), Party([b, a])]
        self.pending = []  # (check_at, token)
        self.signers = {id(a): [], id(b): []}  # the kids each replica signed with, in order
        self.stats = {"tokens": 0, "verifications": 0, "failures": 0, "503": 0, "500": 0, "kills": 0,
                      "failpoint_kills": 0, "outages": 0, "reboots": 0, "max_token_keys": 0}
        self.failures = []

    def issue_from(self, replica):
        if replica.proc is None:
            return
        if replica.proc.poll() is not None:  # died at its failpoint: start it again, plainly
            replica.proc = None
            self.stats["failpoint_kills"] += 1
            self.start(replica)
            return
        try:
            resp = replica.issue(profile="quick")
        except OSError:
            return
        if resp.status == 500:
            self.stats["500"] += 1
        if resp.status != 200:
            self.stats["503"] += resp.status == 503
            return
        token = resp.json()["token"]
        self.stats["tokens"] += 1
        kid = split_token(token)[0]["kid"]
        signers = self.signers[id(replica)]
        if not signers or signers[-1] != kid:
            signers.append(kid)
        self.check(token, "fresh")
        self.pending.append((time.monotonic() + QUICK_TTL - 1.5, token))

    def check(self, token, when):
        issuer = self.replicas[0].issuer
        for party in self.parties:
            self.stats["verifications"] += 1
            if not party.accepts(token, issuer):
                self.stats["failures"] += 1
                self.failures.append((when, split_token(token)[0]["kid"], {
                    "from": party.source, "fetched_ago": round(time.monotonic() - party.fetched_at, 2),
                    "expired": time.monotonic() >= party.expires, "unfetched": party.unfetched,
                    "kids": [k["kid"][:6] for k in (party.jwks or {"keys": []})["keys"]]}))

    def check_aged(self):
        while self.pending and self.pending[0][0] <= time.monotonic():
            self.check(self.pending.pop(0)[1], "aged")

    def rotations(self) -> int:
        return len({kid for kids in self.signers.values() for kid in kids}) - 1

    def check_token_keys(self):
        held = token_private_keys(self.replicas[0])
        self.stats["max_token_keys"] = max(self.stats["max_token_keys"], held)
        # One more than the ring publishes at most: a generation interrupted a moment ago.
        assert held <= MAX_PUBLISHED + 1, f"the token holds {held} key pairs"

    def event(self):
        kind = self.rng.choice(["kill", "failpoint", "outage", "reboot", "none"])
        replica = self.rng.choice(self.replicas)
        a = self.replicas[0]
        if kind == "kill" and replica.proc is not None:
            replica.proc.send_signal(signal.SIGKILL)
            replica.proc.wait()
            replica.proc = None
            self.stats["kills"] += 1
            time.sleep(self.rng.uniform(0, 1.5))
            self.start(replica)
        elif kind == "failpoint" and replica.proc is not None:
            replica.stop()
            self.start(replica, self.rng.choice(FAILPOINTS))
        elif kind == "outage":
            a.control.fail("*", "CKR_DEVICE_ERROR")
            self.stats["outages"] += 1
            self.spin(self.rng.uniform(0.5, 2.0))
            a.control.clear()
        elif kind == "reboot":
            a.control.reboot()
            self.stats["reboots"] += 1

    def start(self, replica, failpoint=None):
        """Starts the replica, armed to kill itself at `failpoint` if one is given; one that
        reaches it while starting is started again without."""
        replica.extra_env = {"SIGNET_FAILPOINT": failpoint} if failpoint else {}
        try:
            replica.start()
        except RuntimeError as died:
            assert failpoint and "exited with -9" in str(died), died
            self.stats["failpoint_kills"] += 1
            self.start(replica)

    def spin(self, seconds):
        """Issues and verifies for `seconds`."""
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            for replica in self.replicas:
                self.issue_from(replica)
            self.check_aged()
            time.sleep(0.05)


def test_long_rotation_run(tmp_path):
    a = quick(FaultySignet(tmp_path / "s"), rotate_every="3s")
    a.config["limits"]["requests_per_second_per_client"] = 0
    b = replica_of(a, "b")
    print(f"long run: seed {SEED}, {ROTATIONS} rotations wanted")
    run = Run(a, b)
    a.start()
    b.start()
    try:
        deadline = time.monotonic() + 60 + 30 * ROTATIONS
        while run.rotations() < ROTATIONS and time.monotonic() < deadline:
            run.spin(run.rng.uniform(1.0, 3.0))
            run.event()
            run.check_token_keys()
        run.spin(QUICK_TTL)  # every token still pending is checked once more before it expires
        a.control.clear()
    finally:
        for replica in (a, b):
            if replica.proc is not None:
                replica.stop(sig=signal.SIGKILL)
    stats = dict(run.stats, rotations=run.rotations(), jwks_fetches=sum(p.fetches for p in run.parties))
    print(f"long run: {stats}")
    assert run.failures == [], run.failures[:10]
    assert run.rotations() >= ROTATIONS, f"only {run.rotations()} rotations in the time allowed"
    assert run.stats["500"] == 0
    for kids in run.signers.values():
        assert len(set(kids)) == len(kids), f"a retired key signed again: {kids}"
    assert run.stats["tokens"] > 0 and run.stats["verifications"] >= 2 * run.stats["tokens"]
