# shellcheck shell=bash
# Shared by tools/bench and tools/bench-soak (sourced, not run): a signetd of one's own on a
# token and PKI made by tools/lib/provision.bash, configured, started, checked and stopped.
# The caller sets $signetd and $signetctl (the programs) and daemon="" (the running signetd's
# PID, kept here so that an EXIT trap can end it with signetd_kill).
# shellcheck disable=SC2154 # $signetd and $signetctl are the caller's

# free_port: a TCP port free on 127.0.0.1 right now, for one signetd to listen on.
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# signet_config DIR PORT ALG KEY MTLS LEDGER: DIR/signet.json for one variant. The API-key
# client "bench" is always there; MTLS=1 adds tls.client_ca_file and the certificate client
# "bench-mtls" (CN=bench-mtls); LEDGER, when not 0, turns the audit ledger on, in
# DIR/audit-PORT.log, with that audit.anchor_interval ("0s": the head at every group commit).
signet_config() {
  local dir=$1 port=$2 alg=$3 key=$4 mtls=$5 ledger=$6 tls extra_client="" audit=""
  tls='"cert_file": "tls/server.crt", "key_file": "tls/server.key"'
  if ((mtls)); then
    tls+=', "client_ca_file": "tls/clients-ca.crt"'
    extra_client=', { "id": "bench-mtls", "cert_subject": "CN=bench-mtls", "profiles": ["access"], "audiences": ["platxa-api"] }'
  fi
  # Each ledger file its own head in the token (audit.name), since each run starts a new file.
  [[ $ledger != 0 ]] && audit='"audit": { "file": "audit-'$port'.log", "name": "bench-'$port'", "anchor_interval": "'$ledger'" },'
  cat >"$dir/signet.json" <<JSON
{
  "issuer": "https://127.0.0.1:$port",
  "listen": { "address": "127.0.0.1", "port": $port },
  "tls": { $tls },
  "hsm": { "module": "/usr/lib/softhsm/libsofthsm2.so", "token_label": "signet", "pin_file": "hsm.pin" },
  "keys": { "algorithm": "$alg" },
  "jwks": { "max_age": "1h" },
  "profiles": { "access": { "ttl": "1h", "audience": "platxa-api", "typ": "at+jwt" } },
  "clients": [ { "id": "bench", "api_key_sha256": "$(printf '%s' "$key" | "$signetctl" hash-secret)",
                 "profiles": ["access"], "audiences": ["platxa-api"] }$extra_client ],
  $audit
  "limits": { "max_body_bytes": 16384 }
}
JSON
}

# signetd_start DIR WHAT [PATH]: serves DIR/signet.json in the background ($daemon) and waits
# until GET PATH answers 2xx (/healthz by default: the daemon listens; /readyz: it can sign).
signetd_start() {
  local dir=$1 what=$2 path=${3:-/healthz} port ok=""
  port=$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$dir/signet.json")
  SOFTHSM2_CONF=$dir/softhsm2.conf "$signetd" --config "$dir/signet.json" 2>"$dir/stderr" &
  daemon=$!
  for _ in $(seq 150); do
    curl -fs --cacert "$dir/tls/ca.crt" "https://127.0.0.1:$port$path" >/dev/null && { ok=1; break; }
    sleep 0.1
  done
  [[ -n $ok ]] || { echo "${0##*/}: signetd ($what) did not start:" >&2; cat "$dir/stderr" >&2; exit 1; }
}

# signetd_stop: SIGTERM to $daemon and its exit status: a daemon that does not exit 0 fails
# (under set -e, the caller too), since a measurement of a server that could not shut down
# cleanly is suspect.
signetd_stop() {
  local pid=$daemon
  daemon=""
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || { echo "${0##*/}: signetd did not exit cleanly" >&2; return 1; }
}

# check_token DIR BASE ALG CURL_ARGS...: only correct tokens count: one token, asked for with
# these credentials, is verified against the JWKS before measuring.
check_token() {
  local dir=$1 base=$2 alg=$3
  curl -fs --cacert "$dir/tls/ca.crt" "$base/.well-known/jwks.json" >"$dir/jwks.json"
  curl -fsS --cacert "$dir/tls/ca.crt" "${@:4}" -H 'Content-Type: application/json' \
    -d '{"profile":"access","sub":"user123"}' "$base/v1/tokens" >"$dir/token.json"
  /usr/bin/python3 - "$dir" "$alg" <<'PY'
import json, sys
sys.path.insert(0, "tests/integration")
from harness import verify
folder, alg = sys.argv[1], sys.argv[2]
jwks = json.load(open(f"{folder}/jwks.json"))
verify(json.load(open(f"{folder}/token.json"))["token"], jwks, alg, audience="platxa-api")
PY
}

# signetd_kill: for an EXIT trap: ends $daemon if one still runs, whatever the outcome.
signetd_kill() {
  if [[ -n $daemon ]]; then
    kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    daemon=""
  fi
  return 0
}
