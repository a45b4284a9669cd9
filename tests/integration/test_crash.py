"""kill -9 at every step of the key lifecycle (the daemon's failpoints), then a restart: the
ring is repaired. One active key, the JWKS is exactly the ring, every published key is in the
token and no orphan key pair stays, and a token issued before the crash still verifies."""
import pytest

from harness import Signet, split_token, verify
from rotation import active_kid, admin, keys_by_state, quick, settled_ring, wait_next_may_sign


def trigger_nothing(daemon):
    pass


def trigger_rotation(daemon):
    wait_next_may_sign(daemon)
    try:
        admin(daemon, "POST", "/v1/keys/rotate")
    except OSError:
        pass  # the daemon died while answering


def trigger_destruction(daemon):
    trigger_rotation(daemon)  # the retired key signed nothing: it goes after grace + max age


def trigger_revocation(daemon):
    try:
        admin(daemon, "POST", f"/v1/keys/{active_kid(daemon)}/revoke")
    except OSError:
        pass


# failpoint, what makes the daemon reach it once it serves (None: it dies while starting)
MATRIX = [
    ("after_generate", None),
    ("after_record_first", None),
    ("after_record_next", None),
    ("after_promote", trigger_rotation),
    ("after_record_destroy", trigger_destruction),
    ("after_destroy", trigger_destruction),
    ("after_record_revoke", trigger_revocation),
]


@pytest.mark.parametrize("failpoint,trigger", MATRIX, ids=[m[0] for m in MATRIX])
def test_kill_at_failpoint_then_restart_repairs(tmp_path, monkeypatch, failpoint, trigger):
    daemon = quick(Signet(tmp_path / "s"), rotate_every="1h")
    try:
        crash_and_restart(daemon, monkeypatch, failpoint, trigger)
    finally:
        if daemon.proc is not None:  # a failed check must not leave a daemon behind
            daemon.proc.kill()
            daemon.proc.wait()


def crash_and_restart(daemon, monkeypatch, failpoint, trigger):
    monkeypatch.setenv("SIGNET_FAILPOINT", failpoint)
    before = None
    if trigger is None:
        with pytest.raises(RuntimeError, match="exited with -9"):
            daemon.start()
    else:
        daemon.start()
        # A token that outlives the crash; where the test waits for a key's destruction, one
        # that does not hold the key back for long.
        destroys = trigger is trigger_destruction
        before = daemon.token(profile="quick") if destroys else daemon.token(profile="editor", aud="platxa-api")
        revoked = active_kid(daemon) if trigger is trigger_revocation else None
        trigger(daemon)
        assert daemon.proc.wait(timeout=30) == -9, daemon.stderr()
        daemon.proc = None
    assert f'"name":"{failpoint}"' in daemon.stderr()

    monkeypatch.delenv("SIGNET_FAILPOINT")
    daemon.start()
    jwks = settled_ring(daemon)
    if before is not None and trigger not in (trigger_revocation, trigger_destruction):
        verify(before, jwks, "ES256", audience="platxa-api")
    if trigger is trigger_revocation:
        assert revoked not in [k["kid"] for k in jwks["keys"]]
    if failpoint in ("after_record_destroy", "after_record_revoke"):
        # The record had said the pair goes: repair finishes the destruction, never adopts it.
        assert "key_adopted" not in daemon.stderr(), daemon.stderr()
        assert "its destruction was recorded, then interrupted" in daemon.stderr(), daemon.stderr()
    token = daemon.token()
    assert split_token(token)[0]["kid"] == active_kid(daemon)
    verify(token, jwks, "ES256", audience="platxa-api")
    assert len(keys_by_state(daemon).get("next", [])) <= 1
    print(f"crash matrix: {failpoint}: repaired, {len(jwks['keys'])} published keys")
    daemon.stop()
