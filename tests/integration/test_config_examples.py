"""The configurations the project hands out are valid as they stand: the package's example
(share/doc/signet/examples/signet.json) passes `signetd --check` once the files it names exist,
and the complete example of docs/API.md passes the validator."""
import json
import re
import shutil
import subprocess

from harness import REPO, SIGNETD
from provisioning import FreshToken


def test_packaged_example_passes_check(tmp_path):
    token = FreshToken(tmp_path / "hsm")
    # init puts a TLS key labelled signet-tls in the token, which the example's key_uri names.
    provisioned = tmp_path / "provisioned"
    assert token.init(provisioned).returncode == 0
    example = tmp_path / "example"
    (example / "tls").mkdir(parents=True)
    shutil.copy(REPO / "packaging/examples/signet.json", example / "signet.json")
    shutil.copy(provisioned / "tls/server.crt", example / "tls/server.crt")
    credentials = tmp_path / "credentials"
    credentials.mkdir(mode=0o700)
    shutil.copy(token.pin_file, credentials / "hsm.pin")
    env = dict(token.env, CREDENTIALS_DIRECTORY=str(credentials))
    proc = subprocess.run([SIGNETD, "--config", str(example / "signet.json"), "--check"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "is valid" in proc.stdout and "3 client(s)" in proc.stdout


def api_md_example() -> str:
    text = (REPO / "docs/API.md").read_text()
    section = text[text.index("## Configuration"):]
    return re.search(r"```json\n(.*?)```", section, re.S).group(1)


def test_api_md_example_is_a_valid_config(tmp_path):
    config = json.loads(api_md_example())
    assert "key_file" not in config["tls"] or "key_uri" not in config["tls"], "exactly one of the two"
    path = tmp_path / "signet.json"
    path.write_text(api_md_example())
    proc = subprocess.run([SIGNETD, "--config", str(path), "--check"], capture_output=True, text=True, timeout=60)
    # Valid as a config: what stops --check is the first file it names (exit 4, TLS), not a field.
    assert proc.returncode == 4, proc.stderr
    assert "tls.cert_file" in proc.stderr
