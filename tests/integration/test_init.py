"""signetctl init: first boot on a fresh SoftHSM2 token, then signetd on the config it wrote,
unchanged; and its refusals, which leave the token and the folder as they were."""
import hashlib
import json
import os
import re
import socket
import stat
import subprocess

import pytest

from harness import MODULE, SIGNETCTL, SIGNETD, free_port, verify
from provisioning import ISSUER, FreshToken, Served, files_under


@pytest.fixture
def token(tmp_path):
    return FreshToken(tmp_path / "hsm")


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], capture_output=True, text=True, input=stdin, check=True).stdout


def test_init_then_serve_a_jwks_and_a_token(token, tmp_path):
    config_dir, port = tmp_path / "etc", free_port()
    proc = token.init(config_dir, port=port)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    admin_key = out["admin_api_key"]
    config_file = config_dir / "signet.json"
    assert out["config"] == str(config_file)
    config = json.loads(config_file.read_text())
    written = config_file.read_bytes()

    # Only the key's hash is stored; the TLS key is a URI into the token, never a file.
    assert config["clients"][0]["api_key_sha256"] == hashlib.sha256(admin_key.encode()).hexdigest()
    assert admin_key not in written.decode()
    assert config["tls"]["key_uri"] == out["key_uri"] and out["key_uri"].startswith("pkcs11:token=signet;")
    assert "key_file" not in config["tls"]
    assert config["hsm"]["pin_file"] == str(token.pin_file)
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o640
    for name, content in files_under(config_dir).items():
        assert b"PRIVATE KEY" not in content, f"{name} holds a private key"
        assert token.pin.encode() not in content, f"{name} holds the PIN"
    assert token.pin not in proc.stdout + proc.stderr

    # The key is in the token, made there, sensitive and never extractable.
    listing = token.listing()
    tls_private = listing.split("Private Key Object")[1:]
    tls_private = [o for o in tls_private if "signet-tls" in o]
    assert len(tls_private) == 1, listing
    assert "never extractable" in tls_private[0] and "local" in tls_private[0], tls_private[0]

    # The certificate names the issuer's host and the listen address; the CSR carries the same
    # key and verifies (both were signed in the token).
    cert, csr = config_dir / "tls/server.crt", config_dir / "tls/server.csr"
    text = openssl("x509", "-in", str(cert), "-noout", "-text")
    assert "DNS:signet.test" in text and "IP Address:127.0.0.1" in text and "TLS Web Server Authentication" in text
    assert "verify OK" in subprocess.run(["openssl", "req", "-in", str(csr), "-verify", "-noout"],
                                         capture_output=True, text=True).stderr
    assert openssl("req", "-in", str(csr), "-pubkey", "-noout") == openssl("x509", "-in", str(cert), "-pubkey", "-noout")

    with Served(config_file, token.env, cert) as daemon:
        status, body = daemon.request("GET", "/.well-known/jwks.json")
        assert status == 200
        jwks = json.loads(body)
        assert len(jwks["keys"]) >= 1 and jwks["keys"][0]["alg"] == "ES256"
        status, body = daemon.request("POST", "/v1/tokens", {"profile": "access", "sub": "alice"}, key=admin_key)
        assert status == 200, body
        claims = verify(json.loads(body)["token"], jwks, "ES256", issuer=ISSUER)
        assert claims["sub"] == "alice"
        status, _ = daemon.request("GET", "/v1/keys", key=admin_key)
        assert status == 200, "the admin key is an admin's"
        status, _ = daemon.request("POST", "/v1/tokens", {"profile": "access", "sub": "a"}, key="wrong")
        assert status == 401
    assert config_file.read_bytes() == written, "signetd serves the config as init wrote it"


def test_init_human_output_prints_the_admin_key_once(token, tmp_path):
    proc = token.init(tmp_path / "etc", port=free_port(), json_out=False)
    assert proc.returncode == 0, proc.stderr
    config = json.loads((tmp_path / "etc/signet.json").read_text())
    lines = [line.strip() for line in proc.stdout.splitlines()]
    keys = [line for line in lines if len(line) == 64 and all(c in "0123456789abcdef" for c in line)]
    assert len(keys) == 1, proc.stdout
    assert hashlib.sha256(keys[0].encode()).hexdigest() == config["clients"][0]["api_key_sha256"]
    assert "server.csr" in proc.stdout and token.pin not in proc.stdout


def test_modes_do_not_depend_on_the_umask(token, tmp_path):
    """A first-boot script may run under umask 077: the service's user must still read the
    certificate (DIR/tls 0755, server.crt 0644) and, through DIR's group, the config (0640)."""
    config_dir = tmp_path / "etc"
    old = os.umask(0o077)
    try:
        proc = token.init(config_dir, port=free_port())
    finally:
        os.umask(old)
    assert proc.returncode == 0, proc.stderr
    modes = {name: stat.S_IMODE((config_dir / name).stat().st_mode)
             for name in (".", "tls", "tls/server.crt", "tls/server.csr", "signet.json")}
    assert modes == {".": 0o750, "tls": 0o755, "tls/server.crt": 0o644, "tls/server.csr": 0o644,
                     "signet.json": 0o640}, modes


def test_existing_config_is_refused_without_force(token, tmp_path):
    config_dir = tmp_path / "etc"
    assert token.init(config_dir, port=free_port()).returncode == 0
    before_files, before_objects = files_under(config_dir), token.objects()

    proc = token.init(config_dir, port=free_port())
    assert proc.returncode == 1, proc
    assert proc.stderr.startswith("signetctl:") and "--force" in proc.stderr and "signet.json" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert files_under(config_dir) == before_files, "nothing in the folder changed"
    assert token.objects() == before_objects, "nothing in the token changed"

    forced = token.init(config_dir, "--force", port=free_port())
    assert forced.returncode == 0, forced.stderr
    assert files_under(config_dir)["signet.json"] != before_files["signet.json"]
    new = json.loads(forced.stdout)
    config = json.loads((config_dir / "signet.json").read_text())
    assert config["tls"]["key_uri"] == new["key_uri"]
    assert config["clients"][0]["api_key_sha256"] == hashlib.sha256(new["admin_api_key"].encode()).hexdigest()


@pytest.mark.parametrize("extra, option", [
    (["--alg", "HS256"], "--alg"),
    (["--listen", "127.0.0.1"], "--listen"),
    (["--listen", "127.0.0.1:70000"], "--listen"),
    (["--listen", "example.org:8443"], "--listen"),
    (["--issuer", "http://signet.test"], "--issuer"),
    (["--san", "bad name"], "--san"),
    (["--pin-credential", "../pin"], "--pin-credential"),
    (["--token-label", "x" * 33], "--token-label"),
    (["surplus"], "surplus"),
])
def test_bad_arguments_are_usage_errors_that_change_nothing(token, tmp_path, extra, option):
    config_dir = tmp_path / "etc"
    before = token.objects()
    proc = token.init(config_dir, *extra)
    assert proc.returncode == 2, proc
    assert proc.stderr.startswith("signetctl:") and option in proc.stderr, proc.stderr
    assert not (config_dir / "signet.json").exists()
    assert token.objects() == before


@pytest.mark.parametrize("missing", ["--config-dir", "--module", "--token-label", "--pin-file"])
def test_required_options(token, tmp_path, missing):
    args = {"--config-dir": str(tmp_path / "etc"), "--module": MODULE,
            "--token-label": "signet", "--pin-file": str(token.pin_file)}
    del args[missing]
    proc = subprocess.run([SIGNETCTL, "init", *[x for kv in args.items() for x in kv]], capture_output=True,
                          text=True, env=token.env)
    assert proc.returncode == 2 and missing in proc.stderr, proc


def test_a_readable_pin_file_is_refused_before_the_token_sees_it(token, tmp_path):
    loose = tmp_path / "loose.pin"
    loose.write_text(token.pin)
    loose.chmod(0o644)
    proc = token.init(tmp_path / "etc", pin_file=loose)
    assert proc.returncode == 2, proc
    assert "loose.pin" in proc.stderr and token.pin not in proc.stderr
    assert not (tmp_path / "etc/signet.json").exists()


def test_a_wrong_pin_exits_3_and_is_not_echoed(token, tmp_path):
    wrong = tmp_path / "wrong.pin"
    wrong.write_text("not-the-pin-4711")
    wrong.chmod(0o600)
    before = token.objects()
    proc = token.init(tmp_path / "etc", pin_file=wrong)
    assert proc.returncode == 3, proc
    assert "PIN" in proc.stderr and "not-the-pin-4711" not in proc.stdout + proc.stderr
    assert not (tmp_path / "etc/signet.json").exists()
    assert token.objects() == before


@pytest.mark.parametrize("option, value", [("--token-label", "absent"), ("--module", "/nonexistent/p11.so")])
def test_hsm_trouble_exits_3(token, tmp_path, option, value):
    args = {"--config-dir": str(tmp_path / "etc"), "--module": MODULE,
            "--token-label": "signet", "--pin-file": str(token.pin_file), option: value}
    proc = subprocess.run([SIGNETCTL, "init", *[x for kv in args.items() for x in kv]], capture_output=True,
                          text=True, env=token.env)
    assert proc.returncode == 3, proc
    assert value in proc.stderr
    assert not (tmp_path / "etc/signet.json").exists()


def test_pin_credential_is_read_from_the_credentials_directory(token, tmp_path):
    config_dir = tmp_path / "etc"
    proc = token.init(config_dir, "--pin-credential", "hsm.pin", port=free_port())
    assert proc.returncode == 0, proc.stderr
    config_file = config_dir / "signet.json"
    hsm = json.loads(config_file.read_text())["hsm"]
    assert hsm.get("pin_credential") == "hsm.pin" and "pin_file" not in hsm

    outside = subprocess.run([SIGNETD, "--config", str(config_file), "--check"], capture_output=True, text=True,
                             env=token.env, timeout=60)
    assert outside.returncode == 2, outside
    assert "CREDENTIALS_DIRECTORY" in outside.stderr

    credentials = tmp_path / "credentials"
    credentials.mkdir(mode=0o700)
    (credentials / "hsm.pin").write_text(token.pin)
    (credentials / "hsm.pin").chmod(0o400)
    env = dict(token.env, CREDENTIALS_DIRECTORY=str(credentials))
    checked = subprocess.run([SIGNETD, "--config", str(config_file), "--check"], capture_output=True, text=True,
                             env=env, timeout=60)
    assert checked.returncode == 0, checked.stderr
    with Served(config_file, env, config_dir / "tls/server.crt") as daemon:
        assert daemon.request("GET", "/readyz")[0] == 200


def test_defaults_issuer_from_the_host_name_and_listen_on_loopback(token, tmp_path):
    host = socket.gethostname()
    proc = subprocess.run([SIGNETCTL, "init", "--json", "--config-dir", str(tmp_path / "etc"), "--module", MODULE,
                           "--token-label", "signet", "--pin-file", str(token.pin_file)],
                          capture_output=True, text=True, env=token.env, timeout=60)
    if not re.fullmatch(r"[A-Za-z0-9.-]+", host):
        assert proc.returncode == 2 and "--issuer" in proc.stderr, proc
        return
    assert proc.returncode == 0, proc.stderr
    config = json.loads((tmp_path / "etc/signet.json").read_text())
    assert config["issuer"] == f"https://{host}:8443"
    assert config["listen"] == {"address": "127.0.0.1", "port": 8443}
    assert config["keys"] == {"algorithm": "ES256"}
    text = openssl("x509", "-in", str(tmp_path / "etc/tls/server.crt"), "-noout", "-text")
    assert f"DNS:{host}" in text and "IP Address:127.0.0.1" in text
