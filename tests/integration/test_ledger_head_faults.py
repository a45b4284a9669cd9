"""Faults at the PKCS#11 seam while the audit ledger's head is written into the token: a write
that fails withholds the answers (no token without its line named by the head) and issuance
comes back by itself; a token that refuses to modify a label keeps the head in a data object."""
import json
import subprocess

from faults import trace_lines
from harness import SIGNETCTL, split_token


def verify_against_the_head(daemon) -> dict:
    done = subprocess.run([SIGNETCTL, "--json", "audit", "verify", str(daemon.dir / "audit.log"), "--config",
                           str(daemon.config_file)], capture_output=True, text=True, timeout=60, env=daemon.env())
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_failing_head_write_withholds_the_tokens_and_issuance_comes_back(audited_faulty):
    with audited_faulty as daemon:
        daemon.wait_ready()
        answered = [daemon.token() for _ in range(3)]
        # A token out of room for the rewrite: not a lost connection, so signing goes on.
        daemon.control.fail("C_SetAttributeValue", "CKR_DEVICE_MEMORY")
        for _ in range(3):
            resp = daemon.issue()
            assert resp.status == 503 and resp.json()["error"] == "audit_unavailable", resp
        assert ("C_SetAttributeValue", "CKR_DEVICE_MEMORY") in trace_lines(daemon.trace)
        daemon.control.clear()
        answered.append(daemon.token())
        assert daemon.get("/readyz").status == 200
    report = verify_against_the_head(daemon)
    assert report["ok"] and report["head_checked"], report
    lines = [json.loads(line) for line in (daemon.dir / "audit.log").read_text().splitlines()]
    jti = {line["jti"] for line in lines}
    assert all(split_token(token)[1]["jti"] in jti for token in answered)


# The slots' handles are remembered between writes; a token that no longer knows one (another
# process made the slots anew) is searched again, and the write goes through.
def test_a_head_slot_handle_the_token_forgot_is_found_again(audited_faulty):
    with audited_faulty as daemon:
        daemon.wait_ready()
        daemon.token()
        daemon.control.fail("C_SetAttributeValue", "CKR_OBJECT_HANDLE_INVALID", every=2)
        answered = [daemon.token() for _ in range(6)]
        assert ("C_SetAttributeValue", "CKR_OBJECT_HANDLE_INVALID") in trace_lines(daemon.trace)
        daemon.control.clear()
    assert verify_against_the_head(daemon)["ok"]
    assert len(answered) == 6


def test_a_token_that_refuses_label_updates_keeps_the_head_in_a_data_object(audited_faulty):
    audited_faulty.control.fail("C_SetAttributeValue", "CKR_ATTRIBUTE_READ_ONLY")
    with audited_faulty as daemon:
        daemon.wait_ready()
        for _ in range(4):
            daemon.token()
        assert '"event":"audit_anchor_in_data_object"' in daemon.stderr()
    report = verify_against_the_head(daemon)
    assert report["ok"] and report["head_checked"] and report["lines_past_head"] == 0, report
    # The next start reads the head from there and goes on.
    with daemon:
        daemon.token()
    assert verify_against_the_head(daemon)["ok"]
