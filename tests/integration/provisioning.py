"""Helpers for the tests of `signetctl init` and of the configurations it and the package ship:
a fresh SoftHSM2 token without any config, init run on it, and signetd served from the result."""
import json
import os
import ssl
import subprocess
import time
import http.client
from pathlib import Path

from harness import MODULE, SIGNETCTL, SIGNETD, TOKEN_LABEL, make_token

ISSUER = "https://signet.test"


class FreshToken:
    """An initialised SoftHSM2 token (label TOKEN_LABEL) in its own store, and its PIN file."""

    def __init__(self, folder: Path):
        self.dir = Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pin = make_token(self.dir)
        self.pin_file = self.dir / "hsm.pin"
        self.pin_file.write_text(self.pin + "\n")
        self.pin_file.chmod(0o600)
        self.env = dict(os.environ, SOFTHSM2_CONF=str(self.dir / "softhsm2.conf"))
        self.env.pop("CREDENTIALS_DIRECTORY", None)

    def objects(self) -> list:
        """Every object of the token, one line each, as pkcs11-tool lists them."""
        out = subprocess.run(["pkcs11-tool", "--module", MODULE, "--token-label", TOKEN_LABEL, "--login",
                              "--pin", self.pin, "--list-objects"], capture_output=True, text=True,
                             env=self.env, check=True).stdout
        return [line for line in out.splitlines() if line and not line.startswith(" ")]

    def listing(self) -> str:
        return subprocess.run(["pkcs11-tool", "--module", MODULE, "--token-label", TOKEN_LABEL, "--login",
                               "--pin", self.pin, "--list-objects"], capture_output=True, text=True,
                              env=self.env, check=True).stdout

    def init(self, config_dir: Path, *extra, port=None, pin_file=None, json_out=True) -> subprocess.CompletedProcess:
        args = [SIGNETCTL, "init", "--config-dir", str(config_dir), "--module", MODULE,
                "--token-label", TOKEN_LABEL, "--pin-file", str(pin_file or self.pin_file)]
        if port is not None:
            args += ["--listen", f"127.0.0.1:{port}"]
        if "--issuer" not in extra:  # the default would depend on this machine's host name
            args += ["--issuer", ISSUER]
        if json_out:
            args.append("--json")
        return subprocess.run([*args, *extra], capture_output=True, text=True, env=self.env, timeout=60,
                              stdin=subprocess.DEVNULL)


class Served:
    """signetd on a config file, for as long as the with-block lasts."""

    def __init__(self, config_file: Path, env: dict, ca: Path):
        self.config_file, self.env, self.ca = Path(config_file), env, Path(ca)
        config = json.loads(self.config_file.read_text())
        self.port = config["listen"]["port"]
        self.log = self.config_file.parent / "signetd.log"
        self.proc = None

    def __enter__(self):
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([SIGNETD, "--config", str(self.config_file)], env=self.env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"signetd exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                if self.request("GET", "/readyz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.proc.kill()
        raise RuntimeError(f"signetd did not become ready:\n{self.log.read_text()}")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=20)

    def request(self, method, path, body=None, key=None):
        """(status, body bytes) over HTTPS, trusting only self.ca."""
        context = ssl.create_default_context(cafile=str(self.ca))
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=context)
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()


def files_under(folder: Path) -> dict:
    """{relative path: bytes} of every file below folder."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}
