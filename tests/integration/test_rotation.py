"""The key lifecycle against the real daemon and token, with durations in seconds: rotations
under a relying party that caches the JWKS as Cache-Control allows, count-based rotation,
operator rotation and revocation, and test-mode expired tokens."""
import os
import time

import jwt
import pytest

from harness import Signet, split_token, verify
from rotation import (QUICK_TTL, RelyingParty, active_kid, admin, keys_by_state, quick, settled_ring,
                      wait_next_may_sign)


def test_rotations_never_surprise_a_caching_relying_party(tmp_path):
    """Tokens issued through several rotations all verify at once and until they expire, for a
    relying party that refreshes the JWKS only when its max-age runs out."""
    with quick(Signet(tmp_path / "s"), rotate_every="5s") as daemon:
        party = RelyingParty(daemon)
        signers, issued, failures = [], 0, []
        pending = []  # (verify_at, token): each token is checked again just before it expires
        # SIGNET_ROTATION_SECONDS runs a longer simulation by hand; CI keeps it short.
        deadline = time.monotonic() + float(os.environ.get("SIGNET_ROTATION_SECONDS", "24"))
        while time.monotonic() < deadline:
            token = daemon.token(profile="quick")
            issued += 1
            kid = split_token(token)[0]["kid"]
            if not signers or signers[-1] != kid:
                signers.append(kid)
            if not party.accepts(token):
                failures.append(("fresh", kid))
            pending.append((time.monotonic() + QUICK_TTL - 1.5, token))
            while pending and pending[0][0] <= time.monotonic():
                old = pending.pop(0)[1]
                if not party.accepts(old):
                    failures.append(("aged", split_token(old)[0]["kid"]))
            time.sleep(0.05)
        print(f"rotation simulation: {len(signers) - 1} rotations, {issued} tokens, {len(failures)} failures, "
              f"{party.fetches} JWKS fetches")
        assert failures == []
        assert len(signers) >= 4, f"expected at least three rotations, saw signers {signers}"
        assert len(set(signers)) == len(signers), "a retired key signed again"
        settled_ring(daemon)
        # Retired keys went away once their tokens had expired: the ring stays small.
        assert len(daemon.jwks()["keys"]) <= 4


def test_rotation_by_token_count(tmp_path):
    with quick(Signet(tmp_path / "s"), rotate_every="1h", max_tokens=20) as daemon:
        wait_next_may_sign(daemon)
        counts = {}
        for _ in range(60):
            kid = split_token(daemon.token(profile="quick"))[0]["kid"]
            counts[kid] = counts.get(kid, 0) + 1
            if len(counts) > 1:
                break
            time.sleep(0.05)
        first = next(iter(counts))
        assert len(counts) == 2, counts
        # Counts are reserved ahead in blocks of limit/20 (here 1), so rotation comes at most one
        # block early, and late by at most what one tick of the rotation job lets through.
        assert 19 <= counts[first] <= 45, counts
        settled_ring(daemon)


def test_admin_rotate_promotes_the_published_next_key(tmp_path):
    with quick(Signet(tmp_path / "s"), rotate_every="1h") as daemon:
        before = active_kid(daemon)
        next_kid = keys_by_state(daemon)["next"][0]
        old_token = daemon.token(profile="editor", aud="platxa-api")
        wait_next_may_sign(daemon)
        assert daemon.request("POST", "/v1/keys/rotate").status == 401
        assert daemon.request("POST", "/v1/keys/rotate", key=daemon.keys["webapp"]).status == 403
        resp = admin(daemon, "POST", "/v1/keys/rotate")
        assert resp.status == 200, resp
        assert resp.json()["rotated"] is True
        assert active_kid(daemon) == next_kid
        assert keys_by_state(daemon)["retiring"] == [before]
        jwks = settled_ring(daemon)
        # The retired key stays published: a token it signed still verifies.
        verify(old_token, jwks, "ES256", audience="platxa-api")
        assert split_token(daemon.token())[0]["kid"] == next_kid


def test_admin_rotate_waits_for_prepublication(tmp_path):
    with quick(Signet(tmp_path / "s"), rotate_every="1h", prepublish="30s") as daemon:
        before = active_kid(daemon)
        resp = admin(daemon, "POST", "/v1/keys/rotate")
        assert resp.status == 200, resp
        body = resp.json()
        assert body["rotated"] is False
        assert "not yet published" in body["rotation_held"]
        assert active_kid(daemon) == before


def test_revoke_the_active_key(tmp_path):
    with quick(Signet(tmp_path / "s"), rotate_every="1h") as daemon:
        victim = active_kid(daemon)
        stolen = daemon.token()
        assert admin(daemon, "POST", "/v1/keys/not-a-kid/revoke").status == 404
        resp = admin(daemon, "POST", f"/v1/keys/{victim}/revoke")
        assert resp.status == 200, resp
        assert resp.json()["revoked"] is True
        jwks = settled_ring(daemon)
        assert victim not in [k["kid"] for k in jwks["keys"]]
        assert active_kid(daemon) != victim
        # Tokens of the revoked key no longer verify; new ones do.
        with pytest.raises(AssertionError):
            verify(stolen, jwks, "ES256", audience="platxa-api")
        verify(daemon.token(), daemon.jwks(), "ES256", audience="platxa-api")
        assert f'"kid":"{victim}"' in daemon.stderr() and "key_revoked" in daemon.stderr()


def test_expired_test_tokens_come_from_a_retiring_key(tmp_path):
    with quick(Signet(tmp_path / "s"), rotate_every="1h") as daemon:
        wait_next_may_sign(daemon)
        assert admin(daemon, "POST", "/v1/keys/rotate").json()["rotated"] is True
        retiring = keys_by_state(daemon)["retiring"][0]
        resp = daemon.request("POST", "/auth?expired=true", key=daemon.keys["webapp"])
        assert resp.status == 200, resp
        token = resp.json()["token"]
        header, claims = split_token(token)
        assert header["kid"] == retiring
        assert claims["exp"] < time.time()
        with pytest.raises(jwt.ExpiredSignatureError):
            verify(token, daemon.jwks(), "ES256", audience="platxa-api")


def test_metrics_show_the_ring(tmp_path):
    with quick(Signet(tmp_path / "s"), rotate_every="1h") as daemon:
        daemon.token()
        kid = active_kid(daemon)
        text = daemon.get("/metrics").text
        assert 'signet_keys{state="active"} 1' in text
        assert 'signet_keys{state="next"} 1' in text
        assert f'signet_tokens_signed_total{{kid="{kid}"}} 1' in text
        assert f'signet_key_age_seconds{{kid="{kid}",state="active"}}' in text
