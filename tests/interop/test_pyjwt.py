"""PyJWT's PyJWKClient, as a Python relying party uses it, fetches Signet's live JWKS over HTTPS
and verifies Signet's tokens."""
import urllib.request

import jwt
import pytest

from harness import split_token


@pytest.fixture
def trusting_opener(daemon):
    """PyJWT 2.6's PyJWKClient fetches with urllib's global opener and takes no SSL context:
    install one that trusts the test CA, and put the default back afterwards."""
    urllib.request.install_opener(urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=daemon.ssl_context())))
    yield
    urllib.request.install_opener(None)


def client(daemon, path="/.well-known/jwks.json"):
    return jwt.PyJWKClient(daemon.base + path, cache_keys=False, cache_jwk_set=False)


@pytest.mark.usefixtures("trusting_opener")
@pytest.mark.parametrize("path", ["/.well-known/jwks.json", "/jwks"])
def test_pyjwkclient_verifies_tokens(daemon, path):
    jwks_client = client(daemon, path)
    for sub in ("alice", "bob", "carol"):
        token = daemon.token(sub=sub, claims={"user_id": 7})
        key = jwks_client.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=[daemon.algorithm], audience="platxa-api",
                            issuer=daemon.issuer, options={"require": ["exp", "iat", "nbf", "jti"]})
        assert claims["sub"] == sub and claims["user_id"] == 7


@pytest.mark.usefixtures("trusting_opener")
def test_pyjwkclient_rejects_a_forged_token(daemon):
    token = daemon.token()
    header, payload, sig = token.split(".")
    forged = f"{header}.{payload}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"
    key = client(daemon).get_signing_key_from_jwt(forged)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, key.key, algorithms=[daemon.algorithm], audience="platxa-api")


@pytest.mark.usefixtures("trusting_opener")
def test_pyjwkclient_rejects_wrong_audience(daemon):
    token = daemon.token()
    key = client(daemon).get_signing_key_from_jwt(token)
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key.key, algorithms=[daemon.algorithm], audience="someone-else")


def test_without_the_ca_the_jwks_fetch_fails(daemon):
    """Control: the CA really is what makes the fetch work (no verification silently off)."""
    urllib.request.install_opener(None)
    with pytest.raises(jwt.PyJWKClientError):
        client(daemon).get_signing_key_from_jwt(daemon.token())
    assert split_token(daemon.token())[0]["alg"] == daemon.algorithm
