"""Helpers for the key lifecycle tests: a daemon with durations in seconds, a relying party
that caches the JWKS exactly as Cache-Control allows, replicas on one token, and a look into
the token with pkcs11-tool."""
import copy
import re
import subprocess
import time

from harness import MODULE, TOKEN_LABEL, Signet, free_port, split_token, verify

QUICK_TTL = 4  # seconds a "quick" token lives


def quick(daemon: Signet, rotate_every="6s", max_tokens=0, max_age="2s", **keys) -> Signet:
    """Durations in seconds, and a profile whose tokens live QUICK_TTL seconds."""
    daemon.config["keys"].update({"rotate_every": rotate_every, "prepublish": "1s", "retire_grace": "1s",
                                  "refresh_interval": "1s", "max_tokens_per_key": max_tokens, **keys})
    daemon.config["jwks"]["max_age"] = max_age
    daemon.config["profiles"]["quick"] = {"ttl": f"{QUICK_TTL}s", "audience": "platxa-api"}
    daemon.config["clients"][0]["profiles"].append("quick")
    daemon.config["test_mode"] = True
    return daemon


def admin(daemon: Signet, method: str, path: str):
    return daemon.request(method, path, key=daemon.keys["ops"], timeout=30)


def keys_by_state(daemon: Signet) -> dict:
    resp = admin(daemon, "GET", "/v1/keys")
    assert resp.status == 200, resp
    states = {}
    for key in resp.json()["keys"]:
        states.setdefault(key["state"], []).append(key["kid"])
    return states


def active_kid(daemon: Signet) -> str:
    active = keys_by_state(daemon).get("active", [])
    assert len(active) == 1, f"not exactly one active key: {active}"
    return active[0]


def wait_next_may_sign(daemon: Signet, timeout=15.0) -> str:
    """Waits until the next key has been published long enough to sign (its sign_after in
    /v1/keys has passed) and returns its kid."""
    deadline = time.monotonic() + timeout
    while True:
        keys = admin(daemon, "GET", "/v1/keys").json()["keys"]
        ready = [k["kid"] for k in keys if k["state"] == "next" and time.time() >= k["sign_after"]]
        if ready:
            return ready[0]
        assert time.monotonic() < deadline, f"no next key may sign after {timeout} s: {keys}"
        time.sleep(0.1)


def token_private_keys(daemon: Signet) -> int:
    """How many private key objects the token holds, as pkcs11-tool sees them."""
    out = subprocess.run(["pkcs11-tool", "--module", MODULE, "--token-label", TOKEN_LABEL, "--login",
                          "--pin", daemon.pin, "--list-objects", "--type", "privkey"],
                         env=daemon.env(), capture_output=True, text=True, check=True).stdout
    return len(re.findall(r"^Private Key Object", out, re.MULTILINE))


def check_ring(daemon: Signet) -> dict:
    """The ring invariants: one active key, the JWKS is the ring, every published key is in the
    token and the token holds no other key pair."""
    jwks = daemon.jwks()
    published = sorted(k["kid"] for k in jwks["keys"])
    states = keys_by_state(daemon)
    assert len(states.get("active", [])) == 1, states
    assert published == sorted(kid for kids in states.values() for kid in kids), (published, states)
    assert token_private_keys(daemon) == len(published), "orphan or missing key pairs in the token"
    return jwks


def settled_ring(daemon: Signet, timeout=10.0) -> dict:
    """check_ring, once the lease holder has had time to repair: a killed holder's lease must
    expire first (three refresh intervals)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check_ring(daemon)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


class RelyingParty:
    """Verifies tokens against a JWKS it refreshes only when Cache-Control says it is stale."""

    def __init__(self, daemon: Signet, algorithm="ES256"):
        self.daemon, self.algorithm = daemon, algorithm
        self.jwks, self.expires, self.fetches = None, 0.0, 0

    def keys(self) -> dict:
        if self.jwks is None or time.monotonic() >= self.expires:
            resp = self.daemon.get("/.well-known/jwks.json")
            assert resp.status == 200, resp
            max_age = int(re.search(r"max-age=(\d+)", resp.headers["Cache-Control"]).group(1))
            self.jwks, self.expires = resp.json(), time.monotonic() + max_age
            self.fetches += 1
        return self.jwks

    def accepts(self, token: str) -> bool:
        header, _ = split_token(token)
        keys = self.keys()
        if not any(k["kid"] == header["kid"] for k in keys["keys"]):
            return False
        verify(token, keys, self.algorithm, audience="platxa-api", issuer=self.daemon.issuer)
        return True


def replica_of(primary: Signet, name="replica") -> Signet:
    """A second signetd on the primary's token (same folder, PIN and certificates), own port."""
    other = copy.copy(primary)
    other.config = copy.deepcopy(primary.config)
    other.port = free_port()
    other.base = f"https://127.0.0.1:{other.port}"
    other.config["listen"]["port"] = other.port
    other.config_file = primary.dir / f"{name}.json"
    other.stderr_file = primary.dir / f"{name}.stderr"
    other.proc = None
    return other
