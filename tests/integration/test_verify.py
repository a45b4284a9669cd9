"""Introspection (POST /v1/verify) and the operator's verbs for the ring and for verification
(signetctl keys, signetctl verify), against the real daemon."""
import json
import os
import subprocess

import pytest

from harness import SIGNETCTL, Signet
from rotation import active_kid, quick


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with quick(Signet(tmp_path_factory.mktemp("verify")), rotate_every="1h") as d:
        yield d


def introspect(daemon, body, key="webapp"):
    return daemon.request("POST", "/v1/verify", json_body=body, key=daemon.keys[key])


def tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = "A" if signature[0] != "A" else "B"
    return ".".join([header, payload, flipped + signature[1:]])


def test_valid_token_is_active_with_its_claims(daemon):
    token = daemon.token(claims={"user_id": 7})
    resp = introspect(daemon, {"token": token, "audience": "platxa-api", "profile": "access"})
    assert resp.status == 200, resp
    body = resp.json()
    assert body["active"] is True
    assert body["kid"] == active_kid(daemon)
    assert body["claims"]["sub"] == "alice" and body["claims"]["user_id"] == 7
    assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("case,reason", [
    ("wrong_audience", "wrong_audience"),
    ("other_profile", "wrong_type"),
    ("tampered", "bad_signature"),
    ("garbage", "malformed"),
    ("expired", "expired"),
    ("foreign", "unknown_kid"),
])
def test_invalid_tokens_are_inactive_with_a_reason(daemon, tmp_path, case, reason):
    token = daemon.token()
    body = {"token": token, "audience": "platxa-api"}
    if case == "wrong_audience":
        body["audience"] = "someone-else"
    elif case == "other_profile":
        body["profile"] = "editor"
    elif case == "tampered":
        body["token"] = tamper(token)
    elif case == "garbage":
        body["token"] = "not.a.token"
    elif case == "expired":
        body["token"] = daemon.request("POST", "/auth?expired=true", key=daemon.keys["webapp"]).json()["token"]
    elif case == "foreign":
        with Signet(tmp_path / "other") as other:
            body["token"] = other.token()
    resp = introspect(daemon, body)
    assert resp.status == 200, resp
    assert resp.json() == {"active": False, "error": reason}


def test_introspection_needs_credentials_and_a_good_body(daemon):
    token = daemon.token()
    assert daemon.request("POST", "/v1/verify", json_body={"token": token}).status == 401
    assert introspect(daemon, {"tok": token}).status == 400
    assert introspect(daemon, {"token": token, "profile": "nope"}).status == 400
    assert introspect(daemon, {"token": token, "extra": 1}).status == 400
    resp = daemon.request("POST", "/v1/verify", body=json.dumps({"token": token}), key=daemon.keys["webapp"],
                          content_type="text/plain")
    assert resp.status == 415


def ctl(daemon, *args, key="ops"):
    env = dict(os.environ, SIGNET_API_KEY=daemon.keys[key])
    return subprocess.run([SIGNETCTL, *args, "--url", daemon.base, "--cacert", str(daemon.ca)],
                          env=env, capture_output=True, text=True, timeout=60)


def test_signetctl_keys_list_and_revoke(daemon):
    listed = ctl(daemon, "--json", "keys", "list")
    assert listed.returncode == 0, listed.stderr
    states = {k["kid"]: k["state"] for k in json.loads(listed.stdout)["keys"]}
    assert sorted(states.values()) == ["active", "next"]
    assert all(k["evidence"] == {"local": True, "always_sensitive": True, "never_extractable": True,
                                  "allowed_mechanisms": True}
               for k in json.loads(listed.stdout)["keys"])
    human = ctl(daemon, "keys", "list")
    assert active_kid(daemon) in human.stdout and "active" in human.stdout

    denied = ctl(daemon, "keys", "list", key="webapp")
    assert denied.returncode == 1 and denied.stderr.startswith("signetctl:") and "403" in denied.stderr

    next_kid = next(kid for kid, state in states.items() if state == "next")
    revoked = ctl(daemon, "keys", "revoke", next_kid)
    assert revoked.returncode == 0, revoked.stderr
    assert next_kid not in [k["kid"] for k in daemon.jwks()["keys"]]


def test_signetctl_verify(daemon):
    token = daemon.token()
    jwks_url = daemon.base + "/.well-known/jwks.json"

    def verify(*args):
        return subprocess.run([SIGNETCTL, "verify", "--jwks", jwks_url, "--cacert", str(daemon.ca), *args],
                              capture_output=True, text=True, timeout=60)

    ok = verify("--aud", "platxa-api", "--iss", daemon.issuer, "--typ", "at+jwt", token)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["sub"] == "alice"
    bad = verify("--aud", "other", token)
    assert bad.returncode == 1 and "wrong_audience" in bad.stderr
    forged = verify(tamper(token))
    assert forged.returncode == 1 and "bad_signature" in forged.stderr
    as_json = verify("--json", "--typ", "JWT", token)
    assert as_json.returncode == 1 and json.loads(as_json.stdout) == {"valid": False, "reason": "wrong_type"}
    assert verify().returncode == 2
