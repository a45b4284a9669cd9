"""Two signetd on one token: one lease holder changes the ring, both serve the same JWKS bytes
and ETag within the refresh interval, and neither makes a duplicate next key."""
import time

from harness import Signet, split_token, verify
from rotation import active_kid, admin, keys_by_state, quick, replica_of, settled_ring, wait_next_may_sign

REFRESH = 1.0  # keys.refresh_interval in quick()


def same_jwks(a: Signet, b: Signet) -> bool:
    ra, rb = a.get("/.well-known/jwks.json"), b.get("/.well-known/jwks.json")
    return ra.body == rb.body and ra.headers["ETag"] == rb.headers["ETag"]


def converge(a: Signet, b: Signet, timeout=10.0) -> float:
    start = time.monotonic()
    while not same_jwks(a, b):
        assert time.monotonic() - start < timeout, "replicas did not converge"
        time.sleep(0.05)
    return time.monotonic() - start


def test_two_replicas_serve_one_ring(tmp_path):
    with quick(Signet(tmp_path / "s"), rotate_every="1h") as a:
        with replica_of(a) as b:
            converge(a, b)
            assert len(keys_by_state(a)["next"]) == 1 and keys_by_state(b) == keys_by_state(a)

            # Tokens from either verify against either's JWKS.
            jwks = b.jwks()
            verify(a.token(), jwks, "ES256", audience="platxa-api")
            verify(b.token(), a.jwks(), "ES256", audience="platxa-api")

            # A rotation by the lease holder reaches the other replica within the refresh interval:
            # measured from the holder's answer (its own view has changed) to the other's JWKS.
            wait_next_may_sign(a)
            old = active_kid(a)
            resp = admin(a, "POST", "/v1/keys/rotate")
            assert resp.status == 200 and resp.json()["rotated"] is True, resp
            took = converge(a, b)
            print(f"replica convergence after a rotation: {took:.2f} s (refresh interval {REFRESH} s)")
            assert took <= REFRESH + 1.0
            assert split_token(a.token())[0]["kid"] == split_token(b.token())[0]["kid"] != old

            # A rotation asked of the other replica is recorded in the token and carried out by
            # the lease holder; the asking replica answers once its own view shows it.
            wait_next_may_sign(b)
            old = active_kid(b)
            resp = admin(b, "POST", "/v1/keys/rotate")
            assert resp.status == 200 and resp.json()["rotated"] is True, resp
            assert active_kid(b) != old
            converge(a, b)

            # Both ticked many times: still one next key, and no extra key pair in the token.
            time.sleep(3)
            for daemon in (a, b):
                assert len(keys_by_state(daemon).get("next", [])) == 1
            settled_ring(a)
            settled_ring(b)


def test_replica_takes_over_when_the_lease_holder_stops(tmp_path):
    with quick(Signet(tmp_path / "s"), rotate_every="1h") as a:
        b = replica_of(a)
        b.start()
        try:
            converge(a, b)
            a.stop()  # gives the lease up
            wait_next_may_sign(b)
            old = active_kid(b)
            resp = admin(b, "POST", "/v1/keys/rotate")
            assert resp.json()["rotated"] is True, resp
            assert active_kid(b) != old
            settled_ring(b)
        finally:
            b.stop()
