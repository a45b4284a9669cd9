"""The audit ledger's head kept in the token: `signetctl audit verify --config` checks that the
chain reaches it, signetd refuses to append to a ledger that stops short of it, and
`signetctl audit reset-anchor` is the operator's way out, recorded in the ledger itself. Also:
zero durations where zero means none."""
import json
import os
import stat
import subprocess

import pytest

from harness import SIGNETCTL, Signet


def signetctl(daemon, *args):
    return subprocess.run([SIGNETCTL, *args], capture_output=True, text=True, timeout=60, env=daemon.env(),
                          stdin=subprocess.DEVNULL)


def test_verify_checks_the_chain_reaches_the_head_in_the_token(audited):
    with audited as daemon:
        for _ in range(4):
            daemon.token()
    log = daemon.dir / "audit.log"
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    lines = log.read_text().splitlines()
    anchored = signetctl(daemon, "audit", "verify", str(log), "--config", str(daemon.config_file))
    assert anchored.returncode == 0, anchored.stderr
    assert f"reaching the head anchored in the token's data object signet:audit:head (line {len(lines)})" in anchored.stdout
    alone = signetctl(daemon, "audit", "verify", str(log))
    assert alone.returncode == 0 and "the head was not checked" in alone.stdout
    report = json.loads(signetctl(daemon, "--json", "audit", "verify", str(log), "--config",
                                  str(daemon.config_file)).stdout)
    assert report["ok"] and report["head_checked"] and report["head_line"] == len(lines)


@pytest.mark.parametrize("damage", ["truncate", "empty", "delete"])
def test_a_ledger_short_of_its_head_is_refused_until_the_anchor_is_reset(audited, damage):
    with audited as daemon:
        for _ in range(4):
            daemon.token()
    log = daemon.dir / "audit.log"
    lines = log.read_text().splitlines(keepends=True)
    kept = {"truncate": lines[:-2], "empty": [], "delete": None}[damage]
    if kept is None:
        log.unlink()
    else:
        log.write_text("".join(kept))
    missing_from = len(kept or []) + 1

    verify = signetctl(daemon, "audit", "verify", str(log), "--config", str(daemon.config_file))
    if damage != "delete":
        assert verify.returncode == 1
        assert f"lines {missing_from} to {len(lines)} are missing" in verify.stderr, verify.stderr
        assert signetctl(daemon, "audit", "verify", str(log)).returncode == 0  # the chain alone says nothing

    started = daemon.run_signetd()
    assert started.returncode == 1, started
    assert "signetd: refusing to append to the audit ledger" in started.stderr, started.stderr
    assert f"lines {missing_from} to {len(lines)} are missing" in started.stderr
    assert "signetctl audit reset-anchor" in started.stderr
    assert log.exists() == (damage != "delete")  # a refused start changes nothing

    reset = signetctl(daemon, "audit", "reset-anchor", "--config", str(daemon.config_file))
    assert reset.returncode == 0, reset.stderr
    with daemon:
        daemon.token()
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    resets = [e for e in entries if e["event"] == "anchor_reset"]
    assert len(resets) == 1 and f"replaces the head at line {len(lines)}" in resets[0]["note"]
    again = signetctl(daemon, "audit", "verify", str(log), "--config", str(daemon.config_file))
    assert again.returncode == 0, again.stderr


def test_reset_anchor_is_refused_while_signetd_holds_the_ledger(audited):
    with audited as daemon:
        refused = signetctl(daemon, "audit", "reset-anchor", "--config", str(daemon.config_file))
        assert refused.returncode == 1 and "another process holds it" in refused.stderr
        assert daemon.issue().status == 200


def test_zero_durations_where_zero_means_none(tmp_path):
    daemon = Signet(tmp_path / "s")
    daemon.config["verify"] = {"leeway": "0s"}
    daemon.config["keys"].update({"prepublish": "0s", "retire_grace": "0s"})
    with daemon:
        token = daemon.token()
        resp = daemon.request("POST", "/v1/verify", json_body={"token": token}, key=daemon.keys["webapp"])
        assert resp.status == 200 and resp.json()["active"] is True
    for field, value in (("leeway", "-1s"), ("leeway", "0.5s"), ("leeway", "")):
        daemon.config["verify"] = {field: value}
        bad = daemon.run_signetd("--check")
        assert bad.returncode == 2 and "verify.leeway must be a duration" in bad.stderr, bad.stderr
