"""panva's openid-client on Node.js (npm, pinned by package-lock.json), unmodified: discovery,
the client credentials grant, RFC 7662 introspection, then panva's jose verifying the token with
the remote JWKS alone (see oauth_client.mjs)."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def run_client(daemon, discovery, client="webapp", scope="access"):
    assert shutil.which("node"), "node is not installed (tools/install-deps installs it)"
    assert (HERE / "node_modules/openid-client").is_dir(), "openid-client is missing: run tools/install-deps"
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=str(daemon.ca))
    request = {"issuer": daemon.issuer, "client_id": client, "secret": daemon.keys[client], "scope": scope,
               "audience": "platxa-api", "algorithms": [daemon.algorithm], "discovery": discovery}
    proc = subprocess.run(["node", str(HERE / "oauth_client.mjs")], input=json.dumps(request), cwd=HERE,
                          env=env, capture_output=True, text=True, timeout=60)
    return proc


@pytest.mark.parametrize("discovery", ["oidc", "oauth2"])
def test_discovery_grant_introspection_and_remote_jwks(issuer_daemon, discovery):
    proc = run_client(issuer_daemon, discovery)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["token"]["token_type"].lower() == "bearer" and out["token"]["scope"] == "access"
    assert out["introspection"]["active"] is True
    assert out["introspection"]["client_id"] == "webapp" and out["introspection"]["token_type"] == "Bearer"
    assert out["forged_introspection"] == {"active": False}
    assert "error" not in out["verified"], out["verified"]
    assert out["verified"]["header"]["typ"] == "at+jwt"
    assert out["verified"]["header"]["alg"] == issuer_daemon.algorithm
    assert out["verified"]["payload"]["client_id"] == "webapp"
    assert out["verified"]["payload"]["jti"] == out["introspection"]["jti"]


def test_a_scope_of_two_profiles_is_refused_as_invalid_scope(issuer_daemon):
    proc = run_client(issuer_daemon, "oauth2", scope="access editor")
    assert proc.returncode != 0
    assert "invalid_scope" in proc.stderr
