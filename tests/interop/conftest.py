"""The interop tests reuse the integration harness: a real signetd per algorithm."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from harness import Signet  # noqa: E402


@pytest.fixture(scope="module", params=["RS256", "ES256", "PS256", "EdDSA"])
def daemon(request, tmp_path_factory):
    with Signet(tmp_path_factory.mktemp(request.param), algorithm=request.param) as signet:
        signet.algorithm = request.param
        yield signet


@pytest.fixture(scope="module", params=["RS256", "ES256", "PS256", "EdDSA"])
def issuer_daemon(request, tmp_path_factory):
    """A signetd whose issuer is the address it serves at, as a deployment's is: OAuth 2.0 and
    OIDC clients find every endpoint from the issuer and check that metadata names it."""
    signet = Signet(tmp_path_factory.mktemp(request.param), algorithm=request.param)
    signet.issuer = signet.config["issuer"] = signet.base
    with signet:
        signet.algorithm = request.param
        yield signet
