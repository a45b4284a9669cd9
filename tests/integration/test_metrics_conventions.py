"""/metrics follows Prometheus's conventions: HELP and TYPE for every family, the build and the
process described as client libraries do it, the TLS certificate's expiry and the outcome of the
last reload, and series only for the algorithms in use."""
import re
import signal
import ssl
import time


def families(text):
    """{family: (help, type)} and the sample lines."""
    helps, types, samples = {}, {}, []
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, words = line[7:].partition(" ")
            helps[name] = words
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            types[name] = kind
        elif line and not line.startswith("#"):
            samples.append(line)
    return helps, types, samples


def metrics(daemon):
    resp = daemon.get("/metrics")
    assert resp.status == 200, resp
    return resp.text


def test_every_family_has_help_and_type(signet):
    signet.token()
    helps, types, samples = families(metrics(signet))
    assert types, "no families"
    assert set(helps) == set(types), set(types) ^ set(helps)
    assert all(words.strip() for words in helps.values())
    for sample in samples:
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", sample).group(0)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, sample


def test_build_and_process(signet):
    _, types, samples = families(metrics(signet))
    build = [s for s in samples if s.startswith("signet_build_info{")]
    assert len(build) == 1 and re.match(r'signet_build_info\{version="[^"]+",revision="[^"]+"\} 1$', build[0]), build
    for name, kind in [("process_resident_memory_bytes", "gauge"), ("process_cpu_seconds_total", "counter"),
                       ("process_open_fds", "gauge"), ("process_start_time_seconds", "gauge"),
                       ("process_max_fds", "gauge"), ("process_virtual_memory_bytes", "gauge")]:
        assert types.get(name) == kind, name
    value = {s.split(" ")[0]: float(s.split(" ")[1]) for s in samples if s.startswith("process_")}
    assert value["process_resident_memory_bytes"] > 1e6
    assert value["process_open_fds"] >= 3
    assert abs(value["process_start_time_seconds"] - time.time()) < 3600


def test_tls_certificate_expiry_is_the_served_certificate(signet):
    _, _, samples = families(metrics(signet))
    [line] = [s for s in samples if s.startswith("signet_tls_certificate_expiry_timestamp_seconds ")]
    pem = ssl.get_server_certificate(("127.0.0.1", signet.port))
    der = ssl.PEM_cert_to_DER_cert(pem)
    from cryptography import x509
    not_after = x509.load_der_x509_certificate(der).not_valid_after
    assert int(line.split(" ")[1]) == int(not_after.replace(tzinfo=__import__("datetime").timezone.utc).timestamp())


def test_only_algorithms_in_use_have_signing_series(signet):
    signet.token()
    _, _, samples = families(metrics(signet))
    algs = {re.search(r'alg="([^"]+)"', s).group(1) for s in samples if s.startswith("signet_sign_seconds")}
    assert algs == {"ES256"}, algs


def test_the_last_reload_result(fresh):
    fresh.start()
    _, _, samples = families(metrics(fresh))
    assert "signet_reload_last_success 1" in samples
    fresh.config["keys"]["algorithm"] = "RS256"  # needs a restart: the reload is refused
    fresh.write_config()
    fresh.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "reload_refused" not in fresh.stderr() and time.monotonic() < deadline:
        time.sleep(0.1)
    _, _, samples = families(metrics(fresh))
    assert "signet_reload_last_success 0" in samples
    stamp = [s for s in samples if s.startswith("signet_reload_last_timestamp_seconds ")]
    assert stamp and abs(int(stamp[0].split(" ")[1]) - time.time()) < 60
