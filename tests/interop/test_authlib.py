"""Authlib's OAuth 2.0 client (Debian's python3-authlib), unmodified: it reads the RFC 8414
metadata, gets a token with the client credentials grant (HTTP Basic), introspects it (RFC 7662),
and authlib.jose verifies the token with the published JWKS alone."""
import pytest
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.jose.errors import BadSignatureError, InvalidClaimError

from harness import split_token


def session(daemon, client="webapp", secret=None):
    s = OAuth2Session(client, daemon.keys[client] if secret is None else secret,
                      token_endpoint_auth_method="client_secret_basic", scope="access")
    s.verify = str(daemon.ca)
    s.trust_env = False  # else $REQUESTS_CA_BUNDLE would replace the session's CA
    return s


def metadata(daemon):
    # Public documents: the session sends no token with them (withhold_token).
    resp = session(daemon).get(daemon.base + "/.well-known/oauth-authorization-server", withhold_token=True)
    resp.raise_for_status()
    return resp.json()


def verify_with_jwks(daemon, token, audience="platxa-api"):
    meta = metadata(daemon)
    keys = JsonWebKey.import_key_set(session(daemon).get(meta["jwks_uri"], withhold_token=True).json())
    claims = JsonWebToken([daemon.algorithm]).decode(token, keys, claims_options={
        "iss": {"essential": True, "value": meta["issuer"]},
        "aud": {"essential": True, "value": audience},
        "exp": {"essential": True}, "jti": {"essential": True}, "client_id": {"essential": True},
    })
    claims.validate(leeway=5)
    return claims


def test_client_credentials_then_introspection_then_jwks(issuer_daemon):
    daemon = issuer_daemon
    meta = metadata(daemon)
    s = session(daemon)
    token = s.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    assert token["token_type"] == "Bearer" and token["scope"] == "access"
    access_token = token["access_token"]
    assert split_token(access_token)[0]["typ"] == "at+jwt"

    answer = s.introspect_token(meta["introspection_endpoint"], token=access_token, token_type_hint="access_token")
    assert answer.status_code == 200, answer.text
    info = answer.json()
    assert info["active"] is True and info["client_id"] == "webapp" and info["scope"] == "access"

    claims = verify_with_jwks(daemon, access_token)
    assert claims["sub"] == "webapp" and claims["client_id"] == "webapp"
    assert claims["jti"] == info["jti"]


def test_introspection_of_a_forged_token_is_inactive(issuer_daemon):
    daemon = issuer_daemon
    meta = metadata(daemon)
    s = session(daemon)
    access_token = s.fetch_token(meta["token_endpoint"], grant_type="client_credentials")["access_token"]
    header, payload, sig = access_token.split(".")
    forged = f"{header}.{payload}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"
    assert s.introspect_token(meta["introspection_endpoint"], token=forged).json() == {"active": False}
    with pytest.raises(BadSignatureError):
        verify_with_jwks(daemon, forged)
    with pytest.raises(InvalidClaimError):
        verify_with_jwks(daemon, access_token, audience="someone-else")


def test_a_wrong_secret_is_invalid_client(issuer_daemon):
    from authlib.integrations.base_client.errors import OAuthError

    meta = metadata(issuer_daemon)
    with pytest.raises(OAuthError) as raised:
        session(issuer_daemon, secret="wrong").fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    assert raised.value.error == "invalid_client"
