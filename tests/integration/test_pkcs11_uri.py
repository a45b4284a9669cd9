"""The token named by an RFC 7512 URI (hsm.uri, signetctl init --uri) instead of its label:
selected by label, serial or slot, with the module in the URI; what Signet cannot honour is a
config error that names the attribute."""
import json
import re
import subprocess

import pytest

from harness import MODULE, SIGNETCTL, Signet, free_port
from provisioning import ISSUER, FreshToken, Served


def serial_of(env) -> str:
    out = subprocess.run(["softhsm2-util", "--show-slots"], capture_output=True, text=True, env=env, check=True).stdout
    serials = re.findall(r"Serial number:\s+(\S+)", out)
    assert serials, out
    return serials[0]


def with_uri(daemon: Signet, uri: str) -> Signet:
    hsm = daemon.config["hsm"]
    hsm.pop("token_label")
    hsm.pop("module")
    hsm["uri"] = uri
    return daemon


def test_signetd_finds_the_token_by_serial_and_module_path(fresh):
    with_uri(fresh, f"pkcs11:serial={serial_of(fresh.env())}?module-path={MODULE}")
    check = fresh.run_signetd("--check")
    assert check.returncode == 0, check.stderr
    assert "pkcs11:serial=" in check.stdout
    fresh.start()
    assert fresh.jwks()["keys"]
    assert fresh.issue().status == 200


@pytest.mark.parametrize("uri,code,words", [
    ("pkcs11:token=signet?pin-value=1234&module-path=" + MODULE, 2, "PIN"),
    ("pkcs11:token=signet;object=signet-tls?module-path=" + MODULE, 2, "names an object"),
    ("pkcs11:token=signet;manufacturer=SoftHSM?module-path=" + MODULE, 2, "manufacturer"),
    ("pkcs11:token=signet;token=other?module-path=" + MODULE, 2, "twice"),
    ("pkcs11:serial=ffffffffffffffff?module-path=" + MODULE, 3, "with serial 'ffffffffffffffff'"),
])
def test_what_cannot_be_honoured_is_refused(fresh, uri, code, words):
    with_uri(fresh, uri)
    proc = fresh.run_signetd("--check")
    assert proc.returncode == code, proc.stderr
    assert words in proc.stderr and proc.stderr.startswith("signetd:"), proc.stderr
    assert "1234" not in proc.stderr


def test_signetctl_init_takes_the_same_uri(tmp_path):
    token = FreshToken(tmp_path / "hsm")
    uri = f"pkcs11:serial={serial_of(token.env)}?module-path={MODULE}"
    config_dir = tmp_path / "etc"
    args = ["--config-dir", str(config_dir), "--uri", uri, "--pin-file", str(token.pin_file)]
    proc = subprocess.run([SIGNETCTL, "init", *args, "--listen", f"127.0.0.1:{free_port()}", "--issuer", ISSUER, "--json"],
                          capture_output=True, text=True, env=token.env, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    config = json.loads((config_dir / "signet.json").read_text())
    assert config["hsm"]["uri"] == uri and "token_label" not in config["hsm"] and "module" not in config["hsm"]
    assert f"serial={serial_of(token.env)};" in config["tls"]["key_uri"]
    with Served(config_dir / "signet.json", token.env, config_dir / "tls/server.crt") as served:
        status, body = served.request("GET", "/.well-known/jwks.json")
        assert status == 200 and json.loads(body)["keys"]


def test_signetctl_init_refuses_a_pin_in_the_uri(tmp_path):
    token = FreshToken(tmp_path / "hsm")
    proc = subprocess.run([SIGNETCTL, "init", "--config-dir", str(tmp_path / "etc"), "--pin-file", str(token.pin_file),
                           "--uri", f"pkcs11:token=signet?pin-value=1234&module-path={MODULE}"],
                          capture_output=True, text=True, env=token.env, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr
    assert "--uri" in proc.stderr and "PIN" in proc.stderr
    assert not (tmp_path / "etc").exists()
