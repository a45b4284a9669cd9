"""Operations around issuance: per-client rate limits (429 with Retry-After), the audit ledger
(one chained line per token and key event, checked by signetctl audit verify, and issuance
refused with 503 while the ledger cannot be written), and the TLS server key kept in the HSM."""
import json
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import SIGNETCTL, Signet, make_token_tls, split_token, verify


def audit_verify(path, *args):
    return subprocess.run([SIGNETCTL, "audit", "verify", str(path), *args], capture_output=True, text=True, timeout=30)


def test_burst_beyond_the_rate_is_429_with_retry_after(tmp_path):
    daemon = Signet(tmp_path / "s")
    daemon.config["limits"]["requests_per_second_per_client"] = 5
    with daemon:
        conn = daemon.connection()
        statuses = [daemon.issue(conn=conn).status for _ in range(12)]
        assert statuses[:5] == [200] * 5, statuses
        assert 429 in statuses, statuses
        resp = daemon.issue(conn=conn)
        assert resp.status == 429 and resp.json()["error"] == "rate_limited"
        assert int(resp.headers["Retry-After"]) >= 1
        # Other clients have buckets of their own, and the JWKS is not limited.
        assert daemon.issue("limited").status == 200
        assert all(daemon.get("/.well-known/jwks.json").status == 200 for _ in range(20))
        time.sleep(1.2)
        assert daemon.issue(conn=conn).status == 200
        assert 'route="POST /v1/tokens",status="429"' in daemon.get("/metrics").text


def test_every_token_and_key_event_has_a_chained_record(audited):
    with audited as daemon:
        tokens = [daemon.token(claims={"user_id": i}) for i in range(20)]
    log = daemon.dir / "audit.log"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    issued = [l for l in lines if l["event"] == "token_issued"]
    assert [l["jti"] for l in issued] == [split_token(t)[1]["jti"] for t in tokens]
    assert {l["event"] for l in lines} >= {"token_issued", "key_generated"}
    text = log.read_text()
    for token in tokens:
        assert token.split(".")[2] not in text and token.split(".")[1] not in text  # never the token
    assert daemon.pin not in text and daemon.keys["webapp"] not in text
    ok = audit_verify(log)
    assert ok.returncode == 0 and "chain intact" in ok.stdout, ok.stderr


@pytest.mark.parametrize("damage", ["edit", "delete"])
def test_an_edited_or_deleted_line_breaks_the_chain(audited, damage):
    with audited as daemon:
        for _ in range(5):
            daemon.token()
    log = daemon.dir / "audit.log"
    lines = log.read_text().splitlines(keepends=True)
    if damage == "edit":
        lines[2] = lines[2].replace('"sub":"alice"', '"sub":"mallory"')
    else:
        del lines[2]
    log.write_text("".join(lines))
    broken = audit_verify(log, "--json")
    assert broken.returncode == 1
    report = json.loads(broken.stdout)
    assert report["ok"] is False and report["broken_line"] in (3, 4), report


def issue_until_refused(daemon, clients=8, per_client=60):
    """Issues from several keep-alive connections at once, each until a refusal: the answers
    (status, body) in the order each connection got them."""
    def one_connection(_):
        conn, answers = daemon.connection(), []
        for _ in range(per_client):
            resp = daemon.issue(conn=conn)
            answers.append((resp.status, resp.json()))
            if resp.status != 200:
                break
        return answers
    with ThreadPoolExecutor(clients) as pool:
        return [a for answers in pool.map(one_connection, range(clients)) for a in answers]


# The ledger fills a small disk while several connections ask for tokens at once; their
# requests wait for the ledger without holding a worker thread. No token may leave without its
# durable line, whichever way the head is anchored: every token answered 200 has its line.
@pytest.mark.parametrize("anchor_interval", ["0s", "1s"])
def test_issuance_is_refused_while_the_ledger_cannot_be_written(audited, tmp_path, anchor_interval):
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here")
    log = small / "audit.log"
    try:
        audited.config["audit"] = {"file": str(log), "anchor_interval": anchor_interval}
        with audited as daemon:
            answered = [daemon.issue()]
            assert answered[0].status == 200
            filler = small / "filler"
            subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=4k", "count=64"], capture_output=True)
            # The ledger's last page may still have room for a few lines; then no more.
            answers = issue_until_refused(daemon)
            refusals = [body for status, body in answers if status != 200]
            assert refusals and all(b["error"] == "audit_unavailable" for b in refusals), answers
            resp = daemon.issue()
            assert resp.status == 503 and "Retry-After" in resp.headers, resp
            # Publication and verification stay up.
            assert daemon.get("/.well-known/jwks.json").status == 200
            filler.unlink()
            resp = daemon.issue()
            assert resp.status == 200, resp
            tokens = [answered[0].json(), resp.json()] + [body for status, body in answers if status == 200]
        assert audit_verify(log).returncode == 0
        ledger_jtis = {json.loads(line)["jti"] for line in log.read_text().splitlines()}
        assert {t["jti"] for t in tokens} <= ledger_jtis
        # With the head anchored at each commit or at the stop, the ledger reaches it exactly.
        report = json.loads(subprocess.run([SIGNETCTL, "--json", "audit", "verify", str(log), "--config",
                                            str(daemon.config_file)], capture_output=True, text=True, timeout=60,
                                           env=daemon.env()).stdout)
        assert report["ok"] and report["head_checked"], report
    finally:
        subprocess.run(["umount", str(small)], capture_output=True)


def test_tls_server_key_lives_in_the_token(tmp_path):
    daemon = Signet(tmp_path / "s")
    cert, uri = make_token_tls(daemon, "tls", "7115")
    daemon.config["tls"] = {"cert_file": cert.name, "key_uri": uri}
    daemon.ca = cert  # self-signed: the client trusts it directly
    shutil.rmtree(daemon.dir / "tls")  # no TLS private key on disk at all
    with daemon:
        token = daemon.token()
        verify(token, daemon.jwks(), "ES256", audience="platxa-api")
        assert daemon.run_signetd("--check").returncode == 0
    assert not any(p.suffix == ".key" for p in daemon.dir.rglob("*"))
