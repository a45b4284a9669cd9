"""SIGHUP: the running daemon takes a new client list, TLS certificate and key, and client CA,
all or nothing, without dropping open connections; a bad file or config keeps everything as
it was and the log says why."""
import json
import secrets
import signal
import ssl
import subprocess
import time

import pytest

from certs import load_ca, make_ca, make_client, make_server
from harness import Signet, make_token_tls, sha256_hex

RELOAD_EVENTS = ("reloaded", "reload_refused")


@pytest.fixture
def daemon(tmp_path):
    d = Signet(tmp_path / "signet")
    d.certs = tmp_path / "certs"
    d.certs.mkdir()
    d.client_ca = make_ca(d.certs, "Clients CA one")
    d.config["tls"]["client_ca_file"] = str(d.client_ca[2])
    d.config["clients"].append({"id": "robot", "cert_subject": "CN=robot", "profiles": ["service"],
                                "audiences": ["platxa-internal"]})
    with d:
        yield d


def reload_log(daemon) -> list:
    lines = [json.loads(line) for line in daemon.stderr().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") in RELOAD_EVENTS]


def sighup(daemon, text=None) -> dict:
    """Writes the config file (the daemon's config, or text as it is), sends SIGHUP and returns
    the log line that reports the outcome."""
    if text is None:
        daemon.write_config()
    else:
        daemon.config_file.write_text(text)
    seen = len(reload_log(daemon))
    daemon.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        outcome = reload_log(daemon)
        if len(outcome) > seen:
            return outcome[seen]
        time.sleep(0.05)
    raise AssertionError(f"no reload outcome logged:\n{daemon.stderr()}")


def served_certificate(daemon, conn=None) -> bytes:
    """The DER of the certificate a new (or the given) connection was served."""
    conn = conn or daemon.connection()
    if conn.sock is None:
        conn.connect()
    return conn.sock.getpeercert(binary_form=True)


def pem_der(path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(path.read_text())


def with_cert(daemon, cert):
    ctx = daemon.ssl_context()
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    return daemon.connection(context=ctx)


def service_token(daemon, conn):
    return daemon.request("POST", "/v1/tokens", json_body={"profile": "service", "sub": "job"}, conn=conn)


def test_client_list_reloads_and_open_connections_stay(daemon):
    conn = daemon.connection()
    assert daemon.issue(conn=conn).status == 200
    newcomer = secrets.token_urlsafe(32)
    daemon.config["clients"] = [c for c in daemon.config["clients"] if c["id"] != "limited"]
    daemon.config["clients"].append({"id": "newcomer", "api_key_sha256": sha256_hex(newcomer),
                                     "profiles": ["access"], "audiences": ["platxa-api"]})
    sock = conn.sock
    outcome = sighup(daemon)
    assert outcome["event"] == "reloaded" and outcome["clients"] == "5", outcome
    assert outcome["tls_identity"] == "unchanged"
    # The connection opened before the reload carries on, on the same socket.
    assert daemon.issue(conn=conn).status == 200
    assert conn.sock is sock
    resp = daemon.request("POST", "/v1/tokens", json_body={"profile": "access", "sub": "n"}, key=newcomer, conn=conn)
    assert resp.status == 200, resp
    assert daemon.issue("limited").status == 401


def test_new_certificate_reaches_new_connections_only(daemon):
    before = daemon.connection()
    old = served_certificate(daemon, before)
    assert old == pem_der(daemon.dir / "tls" / "server.crt")
    cert, key = make_server(daemon.certs, "renewed", load_ca(daemon.ca, daemon.dir / "tls" / "ca.key"))
    daemon.config["tls"].update(cert_file=str(cert), key_file=str(key))
    outcome = sighup(daemon)
    assert outcome["event"] == "reloaded" and outcome["tls_identity"] == "replaced", outcome
    assert served_certificate(daemon) == pem_der(cert)
    assert daemon.issue().status == 200
    sock = before.sock
    assert daemon.issue(conn=before).status == 200  # the old session goes on
    assert before.sock is sock and served_certificate(daemon, before) == old


@pytest.mark.parametrize("breakage", ["key_of_another_certificate", "garbage_certificate", "missing_key_file"])
def test_bad_tls_files_keep_everything(daemon, breakage):
    ca = load_ca(daemon.ca, daemon.dir / "tls" / "ca.key")
    cert, key = make_server(daemon.certs, "next", ca)
    _, other_key = make_server(daemon.certs, "other", ca)
    if breakage == "key_of_another_certificate":
        key = other_key
    elif breakage == "garbage_certificate":
        cert.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    else:
        key = daemon.certs / "absent.key"
    newcomer = secrets.token_urlsafe(32)
    daemon.config["tls"].update(cert_file=str(cert), key_file=str(key))
    daemon.config["clients"].append({"id": "newcomer", "api_key_sha256": sha256_hex(newcomer),
                                     "profiles": ["access"], "audiences": ["platxa-api"]})
    outcome = sighup(daemon)
    assert outcome["event"] == "reload_refused", outcome
    assert "tls" in outcome["detail"].lower() or "key" in outcome["detail"].lower(), outcome
    # Nothing applied: the old certificate, and not the client of the same change.
    assert served_certificate(daemon) == pem_der(daemon.dir / "tls" / "server.crt")
    resp = daemon.request("POST", "/v1/tokens", json_body={"profile": "access", "sub": "n"}, key=newcomer)
    assert resp.status == 401
    assert daemon.issue().status == 200


def test_invalid_config_keeps_everything(daemon):
    outcome = sighup(daemon, '{"issuer": ')
    assert outcome["event"] == "reload_refused" and "signet.json" in outcome["detail"], outcome
    assert daemon.issue().status == 200
    assert daemon.get("/healthz").status == 200


def test_a_change_that_needs_a_restart_is_refused_whole(daemon):
    daemon.config["profiles"]["access"]["ttl"] = "2h"
    daemon.config["clients"] = [c for c in daemon.config["clients"] if c["id"] != "limited"]
    outcome = sighup(daemon)
    assert outcome["event"] == "reload_refused", outcome
    assert "restart" in outcome["detail"] and "profiles" in outcome["detail"], outcome
    assert daemon.issue("limited").status == 200  # the client list was not applied either
    assert daemon.issue().json()["expires_in"] == 3600


def test_client_ca_reloads(daemon):
    old_robot = make_client(daemon.certs, "robot_one", daemon.client_ca, "robot")
    kept = with_cert(daemon, old_robot)
    assert service_token(daemon, kept).status == 200
    new_ca = make_ca(daemon.certs, "Clients CA two")
    new_robot = make_client(daemon.certs, "robot_two", new_ca, "robot")
    assert service_token(daemon, with_cert(daemon, new_robot)).status == 401
    daemon.config["tls"]["client_ca_file"] = str(new_ca[2])
    outcome = sighup(daemon)
    assert outcome["event"] == "reloaded", outcome
    assert service_token(daemon, with_cert(daemon, new_robot)).status == 200
    assert service_token(daemon, with_cert(daemon, old_robot)).status == 401
    # Each request checks the certificate anew, so an open connection loses the old CA too.
    assert service_token(daemon, kept).status == 401


def test_bad_client_ca_keeps_the_old_one(daemon):
    robot = make_client(daemon.certs, "robot", daemon.client_ca, "robot")
    garbage = daemon.certs / "garbage-ca.crt"
    garbage.write_text("not a certificate\n")
    daemon.config["tls"]["client_ca_file"] = str(garbage)
    outcome = sighup(daemon)
    assert outcome["event"] == "reload_refused" and "client_ca_file" in outcome["detail"], outcome
    assert service_token(daemon, with_cert(daemon, robot)).status == 200


def test_certificate_request_names_no_ca(daemon):
    # Clients that pick their certificate by the CA names of the request (Go, Java, browsers)
    # must not be held to the start's CA after a reload: the request names none.
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{daemon.port}", "-CAfile", str(daemon.ca)],
                         input="", capture_output=True, text=True, timeout=30).stdout
    assert "No client certificate CA names sent" in out, out


def test_tls_key_moves_into_the_token_and_rotates_there(tmp_path):
    daemon = Signet(tmp_path / "s")
    first, first_uri = make_token_tls(daemon, "tls-one", "71a1")
    second, second_uri = make_token_tls(daemon, "tls-two", "71a2")
    with daemon:  # a key file first: GnuTLS's PKCS#11 support starts at the reload
        before = daemon.connection()
        assert daemon.issue(conn=before).status == 200
        for cert, uri in ((first, first_uri), (second, second_uri)):
            daemon.config["tls"] = {"cert_file": cert.name, "key_uri": uri}
            outcome = sighup(daemon)
            assert outcome["event"] == "reloaded" and outcome["tls_identity"] == "replaced", outcome
            daemon.ca = cert  # self-signed: the client trusts it directly
            assert served_certificate(daemon) == pem_der(cert)
            assert daemon.issue().status == 200  # a handshake signed in the token
        assert daemon.issue(conn=before).status == 200
