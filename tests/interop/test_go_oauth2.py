"""Go's golang.org/x/oauth2 (clientcredentials) and gopkg.in/square/go-jose.v2, both from
Debian's packages and unmodified: RFC 8414 metadata, the client credentials grant,
introspection, and the token verified with the JWKS alone (see go_client/main.go)."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
GOPATH = "/usr/share/gocode"  # where Debian's golang-*-dev packages put their sources


@pytest.fixture(scope="module")
def go_client(tmp_path_factory):
    assert shutil.which("go"), "go is not installed (tools/install-deps installs golang-go)"
    for package in ("golang.org/x/oauth2/clientcredentials", "gopkg.in/square/go-jose.v2/jwt"):
        assert (Path(GOPATH) / "src" / package).is_dir(), f"{package} is missing: run tools/install-deps"
    out = tmp_path_factory.mktemp("go") / "signet-go-client"
    env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH, GOCACHE=str(out.parent / "cache"), GOFLAGS="")
    proc = subprocess.run(["go", "build", "-o", str(out), str(HERE / "go_client" / "main.go")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


def run_client(go_client, daemon, scope="access"):
    request = {"issuer": daemon.issuer, "client_id": "webapp", "secret": daemon.keys["webapp"], "scope": scope,
               "audience": "platxa-api", "ca": str(daemon.ca), "algorithms": [daemon.algorithm]}
    proc = subprocess.run([str(go_client)], input=json.dumps(request), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_grant_introspection_and_jwks(go_client, issuer_daemon):
    out = run_client(go_client, issuer_daemon)
    assert "error" not in out, out
    assert out["token_type"] == "Bearer"
    assert out["header"]["typ"] == "at+jwt" and out["header"]["alg"] == issuer_daemon.algorithm
    assert out["claims"]["client_id"] == "webapp" and out["claims"]["scope"] == "access"
    assert out["introspection"]["active"] is True and out["introspection"]["jti"] == out["claims"]["jti"]
    assert out["forged_introspection"] == {"active": False}


def test_two_profiles_in_one_scope_is_invalid_scope(go_client, issuer_daemon):
    out = run_client(go_client, issuer_daemon, scope="access editor")
    assert "invalid_scope" in out["error"], out
