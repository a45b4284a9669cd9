"""The OAuth 2.0 standards Signet speaks, checked on the wire: RFC 8414 metadata beside OIDC
discovery, RFC 7662 introspection at /oauth2/introspect, RFC 9068 access tokens from the client
credentials grant with RFC 6749 §3.3 scopes, and the log lines of refusals."""
import base64
import json
import re

import pytest

from harness import Signet, split_token, verify

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = Signet(tmp_path_factory.mktemp("standards"))
    d.config["test_mode"] = True  # for an already expired token to introspect
    with d:
        yield d


def basic(user, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def grant(daemon, form="grant_type=client_credentials", user="webapp"):
    return daemon.request("POST", "/oauth2/token", form, content_type=FORM, headers=basic(user, daemon.keys[user]))


def introspect(daemon, form, user="svc", secret=None, content_type=FORM):
    headers = basic(user, daemon.keys[user] if secret is None else secret) if user else {}
    return daemon.request("POST", "/oauth2/introspect", form, content_type=content_type, headers=headers)


def log_lines(daemon, event):
    return [json.loads(line) for line in daemon.stderr().splitlines() if line.startswith("{") and f'"{event}"' in line]


# --- RFC 8414 and OIDC discovery ---------------------------------------------------------------

def test_rfc8414_metadata_agrees_with_discovery(daemon):
    resp = daemon.get("/.well-known/oauth-authorization-server")
    assert resp.status == 200, resp
    meta = resp.json()
    oidc = daemon.get("/.well-known/openid-configuration").json()
    assert meta["issuer"] == daemon.issuer
    for name, value in meta.items():
        assert oidc[name] == value, name
    assert meta["token_endpoint"] == daemon.issuer + "/oauth2/token"
    assert meta["introspection_endpoint"] == daemon.issuer + "/oauth2/introspect"
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert meta["response_types_supported"] == []  # no authorization endpoint is served
    assert meta["token_endpoint_auth_methods_supported"] == ["client_secret_basic"]  # no client CA here
    assert meta["scopes_supported"] == ["access", "editor", "service"]


def test_every_advertised_endpoint_is_served(daemon):
    meta = daemon.get("/.well-known/oauth-authorization-server").json()
    for name in ("jwks_uri", "token_endpoint", "introspection_endpoint"):
        path = meta[name][len(daemon.issuer):]
        resp = daemon.get(path) if name == "jwks_uri" else daemon.request("POST", path, "", content_type=FORM)
        assert resp.status in (200, 401), (name, resp)


# --- RFC 9068 access tokens and RFC 6749 §3.3 scopes -------------------------------------------

def test_client_credentials_token_is_an_rfc9068_access_token(daemon):
    resp = grant(daemon, "grant_type=client_credentials&scope=access")
    assert resp.status == 200, resp
    body = resp.json()
    assert body["scope"] == "access" and body["token_type"] == "Bearer"
    header, claims = split_token(body["access_token"])
    assert header["typ"] == "at+jwt"
    assert claims["client_id"] == "webapp" and claims["sub"] == "webapp" and claims["scope"] == "access"
    for name in ("iss", "aud", "iat", "exp", "jti"):
        assert name in claims, name
    verify(body["access_token"], daemon.jwks(), "ES256", audience="platxa-api", issuer=daemon.issuer)


def test_a_profile_whose_typ_is_jwt_still_gets_at_jwt(daemon):
    resp = grant(daemon, "grant_type=client_credentials&scope=service", user="svc")
    assert resp.status == 200, resp
    header, claims = split_token(resp.json()["access_token"])
    assert header["typ"] == "at+jwt" and claims["scope"] == "service" and claims["client_id"] == "svc"


@pytest.mark.parametrize("scope,words", [
    ("access+editor", "ask for each"),
    ("access++editor", "single spaces"),
    ("", "empty"),
    ("acc%22ess", "character"),
    ("nope", "unknown profile"),
])
def test_a_scope_that_is_not_one_token_is_invalid_scope(daemon, scope, words):
    resp = grant(daemon, f"grant_type=client_credentials&scope={scope}")
    assert resp.status == 400, resp
    assert resp.json()["error"] == "invalid_scope"
    assert words in resp.json()["error_description"], resp


def test_clients_cannot_set_the_rfc9068_claims_themselves(daemon):
    resp = daemon.issue(claims={"client_id": "someone"})
    assert resp.status == 403, resp


# --- RFC 7662 introspection --------------------------------------------------------------------

def test_introspection_of_a_valid_token_has_claims_at_the_top_level(daemon):
    token = grant(daemon, "grant_type=client_credentials&scope=access").json()["access_token"]
    resp = introspect(daemon, f"token={token}&token_type_hint=access_token")
    assert resp.status == 200, resp
    assert resp.headers["Cache-Control"] == "no-store"
    answer = resp.json()
    _, claims = split_token(token)
    assert answer["active"] is True
    for name in ("sub", "aud", "iss", "exp", "iat", "nbf", "jti", "client_id", "scope"):
        assert answer[name] == claims[name], name
    assert answer["token_type"] == "Bearer"
    assert "claims" not in answer and "kid" not in answer


def test_introspection_of_a_v1_token_reports_its_profile_as_scope(daemon):
    answer = introspect(daemon, f"token={daemon.token(sub='alice')}").json()
    assert answer["active"] is True and answer["sub"] == "alice" and answer["scope"] == "access"


def forged(token):
    header, payload, sig = token.split(".")
    return f"{header}.{payload}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"


def test_anything_not_a_valid_token_is_exactly_inactive(daemon):
    expired = daemon.request("POST", "/auth?expired=true", key=daemon.keys["webapp"]).json()["token"]
    for token, reason in [("garbage", "malformed"), (forged(daemon.token()), "bad_signature"),
                          (expired, "expired"), ("", "malformed")]:
        resp = introspect(daemon, f"token={token}")
        assert resp.status == 200, resp
        assert resp.json() == {"active": False}
        assert any(line["reason"] == reason and line["client"] == "svc"
                   for line in log_lines(daemon, "token_inactive")), reason


@pytest.mark.parametrize("user,secret", [(None, None), ("svc", "wrong"), ("nobody", "x")])
def test_introspection_needs_client_authentication(daemon, user, secret):
    resp = introspect(daemon, f"token={daemon.token()}", user=user, secret=secret)
    assert resp.status == 401, resp
    assert resp.json()["error"] == "invalid_client"
    assert resp.headers["WWW-Authenticate"].startswith("Basic")


def test_an_api_key_as_bearer_is_not_oauth_client_authentication(daemon):
    resp = daemon.request("POST", "/oauth2/introspect", f"token={daemon.token()}", content_type=FORM,
                          key=daemon.keys["svc"])
    assert resp.status == 401, resp


@pytest.mark.parametrize("body,content_type", [
    ("token_type_hint=access_token", FORM),
    ("token=a&token=b", FORM),
    ('{"token": "x"}', "application/json"),
])
def test_introspection_refuses_a_bad_request(daemon, body, content_type):
    resp = introspect(daemon, body, content_type=content_type)
    assert resp.status == 400, resp
    assert resp.json()["error"] == "invalid_request"


def test_v1_verify_stays(daemon):
    resp = daemon.request("POST", "/v1/verify", json_body={"token": "garbage"}, key=daemon.keys["svc"])
    assert resp.status == 200 and resp.json() == {"active": False, "error": "malformed"}, resp


# --- logs ----------------------------------------------------------------------------------------

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_log_lines_have_rfc3339_times_and_a_syslog_priority(daemon):
    lines = [json.loads(line) for line in daemon.stderr().splitlines() if line.startswith("{")]
    assert lines
    for line in lines:
        assert RFC3339.match(line["ts"]), line
        assert line["priority"] == {"info": 6, "warn": 4, "error": 3}[line["level"]], line


def test_refusals_are_logged_with_address_route_and_reason(daemon):
    daemon.issue(profile="service")  # webapp may not use it: 403
    daemon.get("/no/such/route")
    secret = "wrong-secret-never-logged"
    introspect(daemon, "token=x", secret=secret)  # 401: logged as auth_failed
    refused = log_lines(daemon, "request_refused")
    denied = [line for line in refused if line["route"] == "POST /v1/tokens" and line["status"] == "403"]
    assert denied and denied[-1]["address"] == "127.0.0.1" and denied[-1]["error"] == "access_denied"
    assert "may not use profile" in denied[-1]["reason"]
    assert any(line["route"] == "GET /no/such/route" and line["status"] == "404" for line in refused)
    failed = [line for line in log_lines(daemon, "auth_failed") if line["route"] == "POST /oauth2/introspect"]
    assert failed and failed[-1]["client"] == "svc" and failed[-1]["reason"] == "wrong_client_secret"
    assert secret not in daemon.stderr()
