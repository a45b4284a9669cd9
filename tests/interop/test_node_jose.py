"""panva's jose on Node.js (createRemoteJWKSet + jwtVerify) fetches Signet's live JWKS over HTTPS
and verifies Signet's tokens (see verify.mjs)."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def node_verify(daemon, tokens, audience="platxa-api", ca=True, path="/.well-known/jwks.json"):
    assert shutil.which("node"), "node is not installed (tools/install-deps installs it)"
    assert (HERE / "node_modules/jose").is_dir(), "jose is missing: run tools/install-deps"
    env = dict(os.environ)
    env.pop("NODE_EXTRA_CA_CERTS", None)
    if ca:
        env["NODE_EXTRA_CA_CERTS"] = str(daemon.ca)
    request = {"jwks_uri": daemon.base + path, "issuer": daemon.issuer, "audience": audience,
               "algorithms": [daemon.algorithm], "tokens": tokens}
    proc = subprocess.run(["node", str(HERE / "verify.mjs")], input=json.dumps(request), cwd=HERE,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("path", ["/.well-known/jwks.json", "/jwks"])
def test_jose_verifies_tokens(daemon, path):
    tokens = [daemon.token(sub=f"user{i}", claims={"roles": ["r"]}) for i in range(20)]
    results = node_verify(daemon, tokens, path=path)
    assert [r["ok"] for r in results] == [True] * len(tokens), results
    for i, result in enumerate(results):
        assert result["payload"]["sub"] == f"user{i}"
        assert result["header"]["alg"] == daemon.algorithm


def test_jose_rejects_forged_and_misaddressed_tokens(daemon):
    token = daemon.token()
    header, payload, sig = token.split(".")
    forged = f"{header}.{payload}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"
    assert not node_verify(daemon, [forged])[0]["ok"]
    assert not node_verify(daemon, [token], audience="someone-else")[0]["ok"]


def test_jose_without_the_ca_fails(daemon):
    """Control: node verifies the server's certificate, and NODE_EXTRA_CA_CERTS is what passes."""
    result = node_verify(daemon, [daemon.token()], ca=False)[0]
    assert not result["ok"], result
