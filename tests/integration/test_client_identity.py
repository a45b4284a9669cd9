"""Client identity: mTLS clients mapped by certificate subject beside API-key clients, and the
OAuth 2.0 client credentials grant checked with a real OAuth2 client library."""
import base64

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from certs import make_ca, make_client
from harness import Signet, split_token, verify


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    folder = tmp_path_factory.mktemp("identity")
    d = Signet(folder / "signet")
    certs = folder / "certs"
    certs.mkdir()
    ca = make_ca(certs, "Signet clients CA")
    foreign = make_ca(certs, "Someone else CA")
    d.client_certs = {
        "good": make_client(certs, "good", ca, "ai-engine"),
        "foreign": make_client(certs, "foreign", foreign, "ai-engine"),
        "expired": make_client(certs, "expired", ca, "ai-engine", expired=True),
        "unknown": make_client(certs, "unknown", ca, "stranger"),
        "server_purpose": make_client(certs, "server_purpose", ca, "ai-engine", purpose=ExtendedKeyUsageOID.SERVER_AUTH),
        "weak_key": make_client(certs, "weak_key", ca, "ai-engine", rsa_bits=1024),
    }
    d.config["tls"]["client_ca_file"] = str(ca[2])
    d.config["clients"].append({"id": "ai-engine", "cert_subject": "CN=ai-engine", "profiles": ["service"],
                                "audiences": ["platxa-internal"], "claims": ["service_name"]})
    with d:
        yield d


def with_cert(daemon, name):
    ctx = daemon.ssl_context()
    if name == "weak_key":
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # the client's own OpenSSL refuses RSA-1024 otherwise
    cert, key = daemon.client_certs[name]
    ctx.load_cert_chain(str(cert), str(key))
    return daemon.connection(context=ctx)


def service_token(daemon, conn):
    return daemon.request("POST", "/v1/tokens", json_body={"profile": "service", "sub": "job-7"}, conn=conn)


def test_good_certificate_gets_a_token_for_its_client(daemon):
    resp = service_token(daemon, with_cert(daemon, "good"))
    assert resp.status == 200, resp
    claims = verify(resp.json()["token"], daemon.jwks(), "ES256", audience="platxa-internal")
    assert claims["type"] == "service"


@pytest.mark.parametrize("name", ["foreign", "expired", "unknown", "server_purpose", "weak_key"])
def test_other_certificates_are_401(daemon, name):
    resp = service_token(daemon, with_cert(daemon, name))
    assert resp.status == 401, resp
    assert resp.json()["error"] == "invalid_client"
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="signet"'


def test_certificate_client_stays_within_its_policy(daemon):
    resp = daemon.request("POST", "/v1/tokens", json_body={"profile": "access", "sub": "x"}, conn=with_cert(daemon, "good"))
    assert resp.status == 403, resp


def test_api_key_clients_work_beside_mtls(daemon):
    assert daemon.issue().status == 200
    # A wrong API key is refused even over a good certificate.
    resp = daemon.request("POST", "/v1/tokens", json_body={"profile": "service", "sub": "x"},
                          key="wrong", conn=with_cert(daemon, "good"))
    assert resp.status == 401


# --- OAuth 2.0 client credentials -------------------------------------------------------------

def oauth(daemon, form: str, user="webapp", secret=None, conn=None):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if user is not None:
        secret = daemon.keys[user] if secret is None else secret
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
    return daemon.request("POST", "/oauth2/token", body=form, headers=headers, conn=conn)


def test_oauth2_client_library_gets_a_verifiable_token(daemon):
    from oauthlib.oauth2 import BackendApplicationClient
    from requests.auth import HTTPBasicAuth
    from requests_oauthlib import OAuth2Session

    session = OAuth2Session(client=BackendApplicationClient(client_id="webapp"))
    token = session.fetch_token(token_url=daemon.base + "/oauth2/token", scope=["access"],
                                auth=HTTPBasicAuth("webapp", daemon.keys["webapp"]), verify=str(daemon.ca))
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    header, claims = split_token(token["access_token"])
    assert header["typ"] == "at+jwt" and claims["sub"] == "webapp" and claims["type"] == "access"
    verify(token["access_token"], daemon.jwks(), "ES256", audience="platxa-api")


def test_discovery_names_the_token_endpoint(daemon):
    doc = daemon.get("/.well-known/openid-configuration").json()
    assert doc["token_endpoint"] == daemon.issuer + "/oauth2/token"
    assert "client_credentials" in doc["grant_types_supported"]


def test_oauth2_with_a_certificate(daemon):
    resp = oauth(daemon, "grant_type=client_credentials", user=None, conn=with_cert(daemon, "good"))
    assert resp.status == 200, resp
    assert split_token(resp.json()["access_token"])[1]["type"] == "service"


@pytest.mark.parametrize("form,user,secret,status,error", [
    ("grant_type=client_credentials", "webapp", "wrong", 401, "invalid_client"),
    ("grant_type=client_credentials", "nobody", "x", 401, "invalid_client"),
    ("grant_type=client_credentials", None, None, 401, "invalid_client"),
    ("grant_type=password&username=a&password=b", "webapp", None, 400, "unsupported_grant_type"),
    ("scope=access", "webapp", None, 400, "invalid_request"),
    ("grant_type=client_credentials&grant_type=client_credentials", "webapp", None, 400, "invalid_request"),
    ("grant_type=client_credentials&scope=service", "webapp", None, 400, "invalid_scope"),
    ("grant_type=client_credentials&scope=nope", "webapp", None, 400, "invalid_scope"),
    ("grant_type=client_credentials&audience=elsewhere", "webapp", None, 400, "invalid_scope"),
])
def test_oauth2_errors_follow_rfc6749(daemon, form, user, secret, status, error):
    resp = oauth(daemon, form, user=user, secret=secret)
    assert resp.status == status, resp
    assert resp.json()["error"] == error
    if status == 401:
        assert resp.headers["WWW-Authenticate"].startswith("Basic")
    assert daemon.keys["webapp"] not in resp.text


def test_introspection_with_a_certificate(daemon):
    token = oauth(daemon, "grant_type=client_credentials", user=None, conn=with_cert(daemon, "good")).json()["access_token"]
    resp = daemon.request("POST", "/oauth2/introspect", f"token={token}", conn=with_cert(daemon, "good"),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 200, resp
    answer = resp.json()
    assert answer["active"] is True and answer["client_id"] == "ai-engine" and answer["scope"] == "service"
    resp = daemon.request("POST", "/oauth2/introspect", f"token={token}", conn=with_cert(daemon, "unknown"),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 401 and resp.json()["error"] == "invalid_client", resp


def test_metadata_offers_certificates_with_a_client_ca(daemon):
    meta = daemon.get("/.well-known/oauth-authorization-server").json()
    assert meta["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "tls_client_auth"]
    assert meta["introspection_endpoint_auth_methods_supported"] == ["client_secret_basic", "tls_client_auth"]
