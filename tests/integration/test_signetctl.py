"""signetctl, the operator's tool, against a running signetd."""
import hashlib
import json
import os
import subprocess

import pytest

from harness import SIGNETCTL, split_token, verify


def ctl(*args, stdin="", key=None, env=None):
    env = dict(env or os.environ)
    env.pop("SIGNET_API_KEY", None)
    if key is not None:
        env["SIGNET_API_KEY"] = key
    return subprocess.run([SIGNETCTL, *args], input=stdin, capture_output=True, text=True,
                          timeout=30, env=env)


def remote(signet):
    return ["--url", signet.base, "--cacert", str(signet.ca)]


@pytest.mark.parametrize("secret", ["abc", "s3cr3t-Key_with.symbols~"])
def test_hash_secret_prints_sha256_hex(secret):
    proc = ctl("hash-secret", stdin=secret)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == hashlib.sha256(secret.encode()).hexdigest()


def test_hash_secret_json():
    proc = ctl("hash-secret", "--json", stdin="abc")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert hashlib.sha256(b"abc").hexdigest() in doc.values()


def test_jwks_prints_the_keys(signet):
    proc = ctl("jwks", *remote(signet))
    assert proc.returncode == 0, proc.stderr
    for key in signet.jwks()["keys"]:
        assert key["kid"] in proc.stdout


def test_jwks_json_is_the_jwks(signet):
    proc = ctl("jwks", *remote(signet), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["keys"] == signet.jwks()["keys"]


def test_jwks_untrusted_server_fails(signet, tmp_path):
    other = tmp_path / "other-ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(tmp_path / "k"), "-out", str(other), "-subj", "/CN=other",
                    "-days", "1"], check=True, capture_output=True)
    proc = ctl("jwks", "--url", signet.base, "--cacert", str(other))
    assert proc.returncode != 0
    assert proc.stderr.startswith("signetctl:"), proc.stderr


def test_token_issue_prints_a_valid_token(signet):
    proc = ctl("token", "issue", *remote(signet), "--profile", "access", "--sub", "alice",
               key=signet.keys["webapp"])
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()
    claims = verify(token, signet.jwks(), "ES256", audience="platxa-api", issuer=signet.issuer)
    assert claims["sub"] == "alice"
    assert signet.keys["webapp"] not in proc.stdout + proc.stderr


def test_token_issue_json_with_aud_and_ttl(signet):
    proc = ctl("token", "issue", *remote(signet), "--profile", "access", "--sub", "bob",
               "--aud", "sidecar-3", "--ttl", "10m", "--json", key=signet.keys["webapp"])
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    _, claims = split_token(answer["token"])
    assert claims["sub"] == "bob"
    assert claims["aud"] in ("sidecar-3", ["sidecar-3"])
    assert claims["exp"] - claims["iat"] == 600
    assert answer["expires_in"] == 600


def test_token_issue_wrong_key_exits_1(signet):
    wrong = "not-the-key-" + signet.keys["webapp"][:8]
    proc = ctl("token", "issue", *remote(signet), "--profile", "access", "--sub", "alice", key=wrong)
    assert proc.returncode == 1, proc
    assert proc.stdout.strip() == ""
    assert any(line.startswith("signetctl:") for line in proc.stderr.splitlines()), proc.stderr
    assert wrong not in proc.stderr


def test_token_issue_policy_refusal_exits_1(signet):
    proc = ctl("token", "issue", *remote(signet), "--profile", "service", "--sub", "alice",
               key=signet.keys["webapp"])
    assert proc.returncode == 1, proc
    assert proc.stderr.startswith("signetctl:")


def test_token_issue_without_key_fails(signet):
    proc = ctl("token", "issue", *remote(signet), "--profile", "access", "--sub", "alice")
    assert proc.returncode in (1, 2), proc
    assert proc.stderr.startswith("signetctl:")


def test_unknown_verb_is_usage_error():
    proc = ctl("frobnicate")
    assert proc.returncode == 2, proc
    assert proc.stderr.startswith("signetctl:")
