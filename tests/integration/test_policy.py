"""What a client may ask for: profiles, audiences, claims, lifetimes, and POST /auth."""
import pytest

from harness import split_token, verify


def assert_error(resp, status, code=None):
    assert resp.status == status, resp
    body = resp.json()
    assert set(body) == {"error", "error_description"}, body
    if code is not None:
        assert body["error"] == code, body
    assert body["error_description"].strip()


def test_unknown_profile_is_400(signet):
    assert_error(signet.issue(profile="no-such-profile"), 400, "invalid_request")


def test_profile_not_allowed_for_client_is_403(signet):
    assert_error(signet.issue(profile="service"), 403, "access_denied")


def test_allowed_second_profile(signet):
    resp = signet.issue(profile="editor", aud="platxa-api")
    assert resp.status == 200, resp
    _, claims = split_token(resp.json()["token"])
    assert claims["type"] == "editor"
    assert claims["exp"] - claims["iat"] == 8 * 3600


def test_audience_not_allowed_is_403(signet):
    assert_error(signet.issue(aud="platxa-internal"), 403, "access_denied")


def test_audience_wildcard(signet):
    resp = signet.issue(aud="sidecar-7")
    assert resp.status == 200, resp
    claims = verify(resp.json()["token"], signet.jwks(), "ES256", audience="sidecar-7")
    assert claims["aud"] in ("sidecar-7", ["sidecar-7"])


def test_audience_wildcard_is_a_prefix_only(signet):
    assert_error(signet.issue(aud="xsidecar-7"), 403, "access_denied")


def test_allowed_claims_are_copied(signet):
    wanted = {"user_id": 7, "partner_id": 3, "instance_ids": [1, 2], "roles": ["admin"],
              "instance_name": "acme", "permissions": {"billing": ["read"]}}
    resp = signet.issue(claims=wanted)
    assert resp.status == 200, resp
    _, claims = split_token(resp.json()["token"])
    assert {k: claims[k] for k in wanted} == wanted


def test_claim_not_in_allow_list_is_403(signet):
    assert_error(signet.issue(claims={"user_id": 7, "is_superuser": True}), 403, "access_denied")


@pytest.mark.parametrize("name", ["iss", "exp", "jti", "type", "iat", "nbf"])
def test_reserved_claim_is_refused(signet, name):
    resp = signet.issue(claims={name: 9999999999 if name in ("exp", "iat", "nbf") else "forged"})
    assert resp.status in (400, 403), resp
    assert set(resp.json()) == {"error", "error_description"}


def test_header_fields_in_body_never_reach_the_header(signet):
    resp = signet.issue(header={"alg": "none", "kid": "evil", "jku": "https://evil.test/jwks"})
    if resp.status == 200:
        header, _ = split_token(resp.json()["token"])
        assert header["alg"] == "ES256" and header["kid"] != "evil" and "jku" not in header
    else:
        assert resp.status in (400, 403), resp


def test_ttl_within_policy(signet):
    resp = signet.issue(ttl="90s")
    assert resp.status == 200, resp
    assert resp.json()["expires_in"] == 90


def test_ttl_above_profile_is_403_not_cut(signet):
    assert_error(signet.issue(ttl="2h"), 403, "access_denied")


def test_ttl_above_client_max_ttl_is_403_not_cut(signet):
    resp = signet.issue("limited", ttl="5m")
    assert resp.status == 200, resp
    assert_error(signet.issue("limited", ttl="20m"), 403, "access_denied")


@pytest.mark.parametrize("ttl", ["10 minutes", "-5m", "5", ""])
def test_bad_ttl_is_400(signet, ttl):
    assert_error(signet.issue(ttl=ttl), 400, "invalid_request")


def test_other_client_gets_its_own_profile(signet):
    resp = signet.issue("svc", profile="service", aud="platxa-internal")
    assert resp.status == 200, resp
    _, claims = split_token(resp.json()["token"])
    assert claims["type"] == "service" and claims["exp"] - claims["iat"] == 300


def test_admin_only_client_cannot_issue(signet):
    resp = signet.issue("ops")
    assert resp.status == 403, resp


# --- POST /auth -------------------------------------------------------------------------------

def auth(signet, query="", client="webapp"):
    return signet.request("POST", "/auth" + query, json_body={}, key=signet.keys[client])


def test_auth_signs_first_profile_for_client_id(signet):
    resp = auth(signet)
    assert resp.status == 200, resp
    token = resp.json()["token"]
    claims = verify(token, signet.jwks(), "ES256", audience="platxa-api", issuer=signet.issuer)
    assert claims["sub"] == "webapp"
    assert claims["type"] == "access"


def test_auth_needs_credentials(signet):
    resp = signet.request("POST", "/auth", json_body={})
    assert_error(resp, 401, "invalid_client")


def test_auth_expired_refused_without_test_mode(signet):
    assert_error(auth(signet, "?expired=true"), 403, "access_denied")


def test_auth_expired_bad_value_is_400(signet):
    assert_error(auth(signet, "?expired=banana"), 400, "invalid_request")
