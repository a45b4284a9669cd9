"""Start the real signetd on a fresh SoftHSM2 token and a free port, and speak HTTPS to it.

Shared by the integration and interop tests. A `Signet` owns a temporary folder holding its own
softhsm2.conf and token (random PINs), a PIN file (0600), a CA and a server certificate for
127.0.0.1, and the config (`Signet.config`, a dict a test may change before `start()`). The
programs come from the environment variables SIGNETD and SIGNETCTL (CTest sets them), else from
build/bin/.
"""
import base64
import hashlib
import http.client
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SIGNETD = os.environ.get("SIGNETD", str(REPO / "build/bin/signetd"))
SIGNETCTL = os.environ.get("SIGNETCTL", str(REPO / "build/bin/signetctl"))
MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "signet"
START_TIMEOUT = 20.0  # RSA key generation in SoftHSM2 takes seconds on a busy machine

ALGORITHMS = ("RS256", "ES256", "PS256", "EdDSA")
# Every claim name a test client may set; the reserved ones are refused by the server.
CLAIMS = ["user_id", "partner_id", "instance_ids", "roles", "instance_name", "permissions"]


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw) -> subprocess.CompletedProcess:
    """Runs a helper command; a failure raises with its stderr, which is what one needs to see."""
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def make_token(folder: Path) -> str:
    """A SoftHSM2 store of its own in folder, with token TOKEN_LABEL; returns the user PIN."""
    (folder / "tokens").mkdir(mode=0o700)
    (folder / "softhsm2.conf").write_text(
        f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    pin = secrets.token_hex(12)
    run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL,
         "--pin", pin, "--so-pin", secrets.token_hex(12)],
        env=dict(os.environ, SOFTHSM2_CONF=str(folder / "softhsm2.conf")))
    return pin


def make_tls(folder: Path) -> None:
    """ca.crt/ca.key and server.crt/server.key (EC P-256, SAN IP:127.0.0.1 and localhost)."""
    folder.mkdir(mode=0o700)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-sha256"]
    run(["openssl", "req", "-x509", *ec, "-days", "2", "-keyout", "ca.key", "-out", "ca.crt",
         "-subj", "/CN=Signet test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"], cwd=folder)
    run(["openssl", "req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=localhost"], cwd=folder)
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
         "-set_serial", str(secrets.randbits(63)), "-sha256", "-days", "2",
         "-extfile", "server.ext", "-out", "server.crt"], cwd=folder)
    for name in ("ca.key", "server.key"):
        (folder / name).chmod(0o600)


def make_token_tls(daemon: "Signet", label: str, key_id: str):
    """An EC key pair generated in the daemon's token (never extractable) and a self-signed
    certificate for 127.0.0.1 made with it; returns (certificate path, PKCS#11 URI of the
    private key)."""
    out = run(["pkcs11-tool", "--module", MODULE, "--token-label", TOKEN_LABEL, "--login", "--pin", daemon.pin,
               "--keypairgen", "--key-type", "EC:prime256v1", "--label", label, "--id", key_id],
              env=daemon.env()).stdout
    assert "never extractable" in out
    template = daemon.dir / f"{label}.tmpl"
    template.write_text('cn = "127.0.0.1"\nip_address = "127.0.0.1"\nexpiration_days = 2\ntls_www_server\nsigning_key\n')
    uri = f"pkcs11:token={TOKEN_LABEL};object={label}"
    cert = daemon.dir / f"{label}.crt"
    run(["certtool", "--generate-self-signed", "--provider", MODULE,
         "--load-privkey", f"{uri};type=private;pin-value={daemon.pin}", "--load-pubkey", f"{uri};type=public",
         "--template", str(template), "--outfile", str(cert)], env=daemon.env())
    return cert, f"{uri};type=private"


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Signet:
    """One signetd on its own token, certificates, config and port."""

    def __init__(self, folder: Path, algorithm: str = "ES256"):
        self.dir = Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pin = make_token(self.dir)
        self.pin_file = self.dir / "hsm.pin"
        self.pin_file.write_text(self.pin)
        self.pin_file.chmod(0o600)
        make_tls(self.dir / "tls")
        self.ca = self.dir / "tls" / "ca.crt"
        self.port = free_port()
        self.base = f"https://127.0.0.1:{self.port}"
        self.issuer = "https://signet.test"
        self.config_file = self.dir / "signet.json"
        # One API key per client; the config only holds their SHA-256.
        self.keys = {name: secrets.token_urlsafe(32) for name in ("webapp", "limited", "svc", "ops")}
        self.config = {
            "issuer": self.issuer,
            "listen": {"address": "127.0.0.1", "port": self.port},
            "tls": {"cert_file": "tls/server.crt", "key_file": "tls/server.key"},
            "hsm": {"module": MODULE, "token_label": TOKEN_LABEL, "pin_file": "hsm.pin"},
            "keys": {"algorithm": algorithm},
            "jwks": {"max_age": "1h"},
            "profiles": {
                "access": {"ttl": "1h", "audience": "platxa-api", "typ": "at+jwt"},
                "editor": {"ttl": "8h"},
                "service": {"ttl": "5m", "audience": "platxa-internal"},
            },
            "clients": [
                {"id": "webapp", "api_key_sha256": sha256_hex(self.keys["webapp"]),
                 "profiles": ["access", "editor"], "audiences": ["platxa-api", "sidecar-*"],
                 "max_ttl": "8h", "claims": list(CLAIMS)},
                # A client whose own max_ttl is below its profile's ttl.
                {"id": "limited", "api_key_sha256": sha256_hex(self.keys["limited"]),
                 "profiles": ["access"], "audiences": ["platxa-api"], "max_ttl": "10m",
                 "claims": ["user_id"]},
                {"id": "svc", "api_key_sha256": sha256_hex(self.keys["svc"]),
                 "profiles": ["service"], "audiences": ["platxa-internal"], "claims": ["service_name"]},
                {"id": "ops", "api_key_sha256": sha256_hex(self.keys["ops"]), "admin": True},
            ],
            "limits": {"max_body_bytes": 16384},
        }
        self.proc = None
        self.stderr_file = self.dir / "signetd.stderr"

    # --- the process -----------------------------------------------------------------------

    def env(self) -> dict:
        return dict(os.environ, SOFTHSM2_CONF=str(self.dir / "softhsm2.conf"))

    def write_config(self, config=None) -> Path:
        self.config_file.write_text(json.dumps(self.config if config is None else config, indent=2))
        return self.config_file

    def run_signetd(self, *args, timeout=30) -> subprocess.CompletedProcess:
        """Runs signetd to completion (for --check and start-up failures)."""
        if not args or "--config" not in args:
            args = ("--config", str(self.write_config()), *args)
        return subprocess.run([SIGNETD, *args], env=self.env(), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def start(self) -> "Signet":
        assert self.proc is None, "already running"
        if not os.access(SIGNETD, os.X_OK):
            raise RuntimeError(f"signetd not found at {SIGNETD} (set SIGNETD or build first)")
        self.write_config()
        with open(self.stderr_file, "ab") as err:
            self.proc = subprocess.Popen([SIGNETD, "--config", str(self.config_file)], env=self.env(),
                                         stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code, self.proc = self.proc.returncode, None
                raise RuntimeError(f"signetd exited with {code} at start:\n{self.stderr()}")
            try:
                if self.get("/healthz", timeout=2).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        raise RuntimeError(f"signetd did not answer /healthz within {START_TIMEOUT} s:\n{self.stderr()}")

    def stop(self, sig=signal.SIGTERM, timeout=15.0) -> int:
        """Signals the daemon and returns its exit status (it is killed after timeout)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return 0
        proc.send_signal(sig)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"signetd did not exit within {timeout} s of {sig!r}:\n{self.stderr()}")

    def restart(self) -> int:
        code = self.stop()
        self.start()
        return code

    def stderr(self) -> str:
        try:
            return self.stderr_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc is not None:
            self.stop()

    # --- HTTPS -----------------------------------------------------------------------------

    def ssl_context(self, minimum=None, maximum=None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if minimum is not None:
            ctx.minimum_version = minimum
        if maximum is not None:
            ctx.maximum_version = maximum
        return ctx

    def connection(self, timeout=10.0, context=None, source=None) -> http.client.HTTPSConnection:
        """A keep-alive connection: several requests through `request(..., conn=...)`. source
        is the local address to connect from (e.g. "127.0.0.2" for an attacker)."""
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=context or self.ssl_context(),
                                           source_address=(source, 0) if source else None)

    def request(self, method, path, body=None, *, json_body=None, key=None, headers=None,
                content_type=None, conn=None, timeout=10.0, source=None) -> Response:
        """One HTTPS request. json_body is serialised with Content-Type application/json;
        key is an API key sent as a Bearer credential; source as for connection()."""
        hdrs = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        if key is not None:
            hdrs["Authorization"] = f"Bearer {key}"
        if isinstance(body, str):
            body = body.encode()
        own = conn is None
        conn = conn or self.connection(timeout=timeout, source=source)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return Response(resp.status, resp.headers, resp.read())
        finally:
            if own:
                conn.close()

    def get(self, path, **kw) -> Response:
        return self.request("GET", path, **kw)

    def jwks(self) -> dict:
        resp = self.get("/.well-known/jwks.json")
        assert resp.status == 200, resp
        return resp.json()

    def issue(self, client="webapp", conn=None, **fields) -> Response:
        """POST /v1/tokens for client with the given body fields (profile defaults to access)."""
        body = {"profile": "access", "sub": "alice", **fields}
        return self.request("POST", "/v1/tokens", json_body=body, key=self.keys[client], conn=conn)

    def token(self, client="webapp", **fields) -> str:
        resp = self.issue(client, **fields)
        assert resp.status == 200, resp
        return resp.json()["token"]


# --- JOSE checks done independently of Signet's code -----------------------------------------

THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def thumbprint(jwk: dict) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url without padding)."""
    members = {m: jwk[m] for m in THUMBPRINT_MEMBERS[jwk["kty"]]}
    digest = hashlib.sha256(json.dumps(members, sort_keys=True, separators=(",", ":")).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def split_token(token: str):
    """(header, payload) of a JWS compact token, decoded without verification."""
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


def verify(token: str, jwks: dict, algorithm: str, audience=None, issuer=None) -> dict:
    """Verifies token with PyJWT against the key of the JWKS its kid names; returns the claims."""
    import jwt  # Debian's python3-jwt

    header, _ = split_token(token)
    matches = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert len(matches) == 1, f"kid {header['kid']} not exactly once in the JWKS"
    key = jwt.PyJWK(matches[0], algorithm=algorithm).key
    options = {"verify_aud": audience is not None}
    return jwt.decode(token, key, algorithms=[algorithm], audience=audience, issuer=issuer,
                      options=options, leeway=5)
