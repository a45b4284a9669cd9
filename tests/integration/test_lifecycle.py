"""The process: start-up checks and their exit codes, restarts on the same token, SIGTERM."""
import json
import secrets
import signal
import subprocess
import threading
import time

import pytest

from harness import SIGNETD, split_token, verify


def test_check_on_good_config_exits_0(fresh):
    proc = fresh.run_signetd("--check")
    assert proc.returncode == 0, proc.stderr
    assert fresh.pin not in proc.stdout + proc.stderr


def test_sigterm_exits_0(fresh):
    fresh.start()
    assert fresh.stop(signal.SIGTERM) == 0, fresh.stderr()


def test_sigint_exits_0(fresh):
    fresh.start()
    assert fresh.stop(signal.SIGINT) == 0, fresh.stderr()


def test_sigterm_with_open_keepalive_connection_exits_0(fresh):
    fresh.start()
    conn = fresh.connection()
    assert fresh.get("/healthz", conn=conn).status == 200
    try:
        assert fresh.stop(signal.SIGTERM) == 0, fresh.stderr()
    finally:
        conn.close()


def test_sigterm_under_load_exits_0_without_errors(fresh):
    """Requests in flight when SIGTERM arrives either complete or are refused; none gets a 5xx."""
    fresh.start()
    statuses, stop = [], threading.Event()

    def load():
        while not stop.is_set():
            try:
                statuses.append(fresh.issue().status)
            except OSError:
                return  # the listener is gone

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(statuses) < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        assert fresh.stop(signal.SIGTERM) == 0, fresh.stderr()
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert statuses and all(s == 200 for s in statuses), sorted(set(statuses))


def test_restart_keeps_kid_and_old_tokens_verify(fresh):
    fresh.start()
    before = fresh.jwks()
    token = fresh.token()
    assert fresh.restart() == 0, fresh.stderr()
    after = fresh.jwks()
    assert sorted(k["kid"] for k in after["keys"]) == sorted(k["kid"] for k in before["keys"])
    verify(token, after, "ES256", audience="platxa-api", issuer=fresh.issuer)
    # and the restarted daemon signs with that same key
    new = fresh.token()
    assert split_token(new)[0]["kid"] == split_token(token)[0]["kid"]
    verify(new, before, "ES256", audience="platxa-api", issuer=fresh.issuer)


def test_wrong_pin_exits_3_naming_pin_not_value(fresh):
    wrong = "x" + secrets.token_hex(10)
    fresh.pin_file.write_text(wrong)
    proc = fresh.run_signetd()
    assert proc.returncode == 3, proc.stderr
    assert "PIN" in proc.stderr
    assert wrong not in proc.stdout + proc.stderr
    assert fresh.pin not in proc.stdout + proc.stderr
    assert proc.stderr.startswith("signetd:")


def test_wrong_pin_with_check_exits_3(fresh):
    fresh.pin_file.write_text("0000")
    proc = fresh.run_signetd("--check")
    assert proc.returncode == 3, proc.stderr
    assert "PIN" in proc.stderr


def test_group_readable_pin_file_is_refused(fresh):
    fresh.pin_file.chmod(0o640)
    proc = fresh.run_signetd()
    assert proc.returncode in (2, 3), proc.stderr
    assert "hsm.pin" in proc.stderr
    assert fresh.pin not in proc.stdout + proc.stderr


def test_world_readable_pin_file_is_refused(fresh):
    fresh.pin_file.chmod(0o604)
    proc = fresh.run_signetd()
    assert proc.returncode in (2, 3), proc.stderr
    assert "hsm.pin" in proc.stderr


def test_token_not_found_exits_3_with_check(fresh):
    fresh.config["hsm"]["token_label"] = "no-such-token"
    proc = fresh.run_signetd("--check")
    assert proc.returncode == 3, proc.stderr
    assert "no-such-token" in proc.stderr


def test_absent_token_at_start_is_waited_for(fresh):
    """An absent token (a USB token not yet plugged in, say) is not fatal: signetd serves
    /healthz and refuses what needs the token with 503 (test_hsm_faults.py shows it serving
    once the token appears)."""
    fresh.config["hsm"]["token_label"] = "late-token"
    with fresh:
        ready = fresh.get("/readyz")
        assert ready.status == 503 and "Retry-After" in ready.headers, ready
        jwks = fresh.get("/.well-known/jwks.json")
        assert jwks.status == 503 and jwks.json()["error"] == "hsm_unavailable", jwks
        issued = fresh.issue()
        assert issued.status == 503 and issued.json()["error"] == "hsm_unavailable", issued
        assert "late-token" in fresh.stderr()


def test_module_not_loadable_exits_3(fresh):
    fresh.config["hsm"]["module"] = "/nonexistent/libpkcs11.so"
    proc = fresh.run_signetd()
    assert proc.returncode == 3, proc.stderr
    assert "/nonexistent/libpkcs11.so" in proc.stderr


def bad_config(fresh, change):
    config = json.loads(json.dumps(fresh.config))
    change(config)
    proc = fresh.run_signetd("--config", str(fresh.write_config(config)))
    assert proc.returncode == 2, proc.stderr
    assert "signet.json" in proc.stderr, "the message names the file"
    assert proc.stderr.startswith("signetd:")
    assert len(proc.stderr.strip().splitlines()) == 1, "one line, no trace"
    return proc.stderr


def test_unknown_key_exits_2_naming_it(fresh):
    assert "frobnicate" in bad_config(fresh, lambda c: c.update(frobnicate=True))


def test_unknown_nested_key_exits_2_naming_it(fresh):
    assert "colour" in bad_config(fresh, lambda c: c["profiles"]["access"].update(colour="red"))


def test_bad_duration_exits_2_naming_field(fresh):
    err = bad_config(fresh, lambda c: c["profiles"]["access"].update(ttl="1 hour"))
    assert "ttl" in err


def test_bad_algorithm_exits_2_naming_field(fresh):
    err = bad_config(fresh, lambda c: c["keys"].update(algorithm="HS256"))
    assert "algorithm" in err


def test_missing_config_file_exits_2(fresh):
    proc = fresh.run_signetd("--config", str(fresh.dir / "absent.json"))
    assert proc.returncode == 2, proc.stderr
    assert "absent.json" in proc.stderr


def test_unreadable_tls_key_exits_4(fresh):
    fresh.config["tls"]["key_file"] = "tls/ca.crt"  # a certificate, not a key
    proc = fresh.run_signetd()
    assert proc.returncode == 4, proc.stderr


@pytest.mark.parametrize("args", [[], ["--bogus"], ["--config"]])
def test_usage_errors_exit_2(fresh, args):
    proc = subprocess.run([SIGNETD, *args], capture_output=True, text=True, timeout=10,
                          env=fresh.env(), stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr

