"""Each signing algorithm end to end: the key born in the token, its JWK, and tokens that an
independent verifier (PyJWT over the `cryptography` package) accepts with the published key."""
import base64
import json
import re
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from harness import ALGORITHMS, Signet, b64url_decode, split_token, thumbprint, verify

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}
PUBLIC_MEMBERS = {"RSA": {"n", "e"}, "EC": {"crv", "x", "y"}, "OKP": {"crv", "x"}}
KTY = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}


@pytest.fixture(scope="module", params=ALGORITHMS)
def daemon(request, tmp_path_factory):
    with Signet(tmp_path_factory.mktemp(request.param), algorithm=request.param) as signet:
        signet.algorithm = request.param
        yield signet


def published(daemon) -> list:
    """The JWKS's keys: the active one, and the next one if it is already published."""
    keys = daemon.jwks()["keys"]
    assert 1 <= len(keys) <= 3, keys
    assert len({k["kid"] for k in keys}) == len(keys), "duplicate kid"
    return keys


def test_jwk_members_are_public_only(daemon):
    for jwk in published(daemon):
        kty = KTY[daemon.algorithm]
        assert jwk["kty"] == kty
        assert set(jwk) == {"kty", "kid", "use", "alg"} | PUBLIC_MEMBERS[kty]
        assert not PRIVATE_MEMBERS & set(jwk)
        assert jwk["use"] == "sig"
        assert jwk["alg"] == daemon.algorithm


@pytest.mark.parametrize("index", [0, -1], ids=["first", "last"])
def test_jwk_public_member_sizes(daemon, index):
    jwk = published(daemon)[index]
    for name in PUBLIC_MEMBERS[jwk["kty"]] - {"crv"}:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", jwk[name]), f"{name} is not unpadded base64url"
    if jwk["kty"] == "RSA":
        assert len(jwk["n"]) == 342  # 2048 bits, minimal: no leading zero octet
        assert b64url_decode(jwk["n"])[0] != 0
        assert jwk["e"] == "AQAB"
    elif jwk["kty"] == "EC":
        assert jwk["crv"] == "P-256"
        assert len(jwk["x"]) == 43 and len(jwk["y"]) == 43
        # raises if the point is not on the curve
        ec.EllipticCurvePublicNumbers(int.from_bytes(b64url_decode(jwk["x"]), "big"),
                                      int.from_bytes(b64url_decode(jwk["y"]), "big"),
                                      ec.SECP256R1()).public_key()
    else:
        assert jwk["crv"] == "Ed25519"
        assert len(jwk["x"]) == 43


def test_kid_is_rfc7638_thumbprint(daemon):
    for jwk in published(daemon):
        assert jwk["kid"] == thumbprint(jwk)


def test_token_verifies_with_published_key(daemon):
    resp = daemon.issue(claims={"user_id": 7, "roles": ["admin"]})
    assert resp.status == 200, resp
    body = resp.json()
    claims = verify(body["token"], daemon.jwks(), daemon.algorithm, audience="platxa-api",
                    issuer=daemon.issuer)
    assert claims["user_id"] == 7 and claims["roles"] == ["admin"]


def test_tampered_token_is_rejected(daemon):
    """The verifier used above does catch a bad signature: flip one claim, keep the signature."""
    token = daemon.token()
    header, payload, sig = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["sub"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        verify(f"{header}.{forged}.{sig}", daemon.jwks(), daemon.algorithm, audience="platxa-api")


def test_header_is_exactly_alg_kid_typ(daemon):
    token = daemon.token()
    header, _ = split_token(token)
    assert set(header) == {"alg", "kid", "typ"}
    assert header["alg"] == daemon.algorithm
    assert header["kid"] in [k["kid"] for k in published(daemon)]
    assert header["typ"] == "at+jwt"  # the access profile's typ


def test_claims_and_response_fields(daemon):
    before = int(time.time())
    resp = daemon.issue(sub="bob")
    after = int(time.time())
    assert resp.status == 200, resp
    body = resp.json()
    header, claims = split_token(body["token"])
    assert {"iss", "sub", "aud", "iat", "nbf", "exp", "jti", "type"} <= set(claims)
    assert claims["iss"] == daemon.issuer
    assert claims["sub"] == "bob"
    assert claims["aud"] in ("platxa-api", ["platxa-api"])
    assert claims["type"] == "access"
    assert before - 1 <= claims["iat"] <= after + 1
    assert claims["nbf"] <= claims["iat"] + 1
    assert claims["exp"] - claims["iat"] == 3600
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["expires_at"] == claims["exp"]
    assert body["kid"] == header["kid"]
    assert body["jti"] == claims["jti"]


def test_requested_ttl_sets_lifetime(daemon):
    resp = daemon.issue(ttl="10m")
    assert resp.status == 200, resp
    body = resp.json()
    _, claims = split_token(body["token"])
    assert claims["exp"] - claims["iat"] == 600
    assert body["expires_in"] == 600


def test_jti_is_128_random_bits_and_unique(daemon):
    conn = daemon.connection()
    jtis = set()
    try:
        for _ in range(200):
            resp = daemon.issue(conn=conn)
            assert resp.status == 200, resp
            jti = split_token(resp.json()["token"])[1]["jti"]
            assert re.fullmatch(r"[A-Za-z0-9_-]{22}", jti), jti
            assert len(b64url_decode(jti)) == 16
            jtis.add(jti)
    finally:
        conn.close()
    assert len(jtis) == 200
