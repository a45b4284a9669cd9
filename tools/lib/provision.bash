# shellcheck shell=bash
# Shared by tools/dev-up and tools/bench (sourced, not run): a private SoftHSM2 token and a small
# TLS PKI in a folder of one's own, so that nothing touches the machine's default token store.

# softhsm_conf DIR: writes DIR/softhsm2.conf with its token store in DIR/tokens. The path is
# absolute (SoftHSM2 would read a relative one against the caller's working directory), and the
# file is cheap to rewrite, so callers write it on every run and a moved clone keeps working.
softhsm_conf() {
  local dir=$1
  mkdir -p "$dir/tokens"
  chmod 700 "$dir/tokens"
  printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$(cd "$dir" && pwd)" >"$dir/softhsm2.conf"
}

# softhsm_token DIR LABEL: initialises token LABEL in DIR's store with a random user PIN and SO
# PIN; the user PIN lands in DIR/hsm.pin (0600), which is what signetd's hsm.pin_file reads. The
# SO PIN is only needed to reset the user PIN, which a dev or test token never needs: it is
# thrown away. The PINs go on softhsm2-util's command line, acceptable for a throwaway token only.
softhsm_token() {
  local dir=$1 label=$2 pin so_pin
  pin=$(openssl rand -hex 16)
  so_pin=$(openssl rand -hex 16)
  (umask 077 && printf '%s' "$pin" >"$dir/hsm.pin")
  SOFTHSM2_CONF=$dir/softhsm2.conf softhsm2-util --init-token --free --label "$label" \
    --pin "$pin" --so-pin "$so_pin" >/dev/null
}

# dev_tls DIR: a dev CA (DIR/ca.crt) and a server certificate for 127.0.0.1 and localhost
# (DIR/server.crt, DIR/server.key), all EC P-256, keys 0600. Clients trust DIR/ca.crt.
dev_tls() {
  local dir=$1
  mkdir -p "$dir"
  (
    umask 077
    cd "$dir" || exit 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 825 \
      -keyout ca.key -out ca.crt -subj "/CN=Signet dev CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
      -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'basicConstraints=critical,CA:FALSE' \
      'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' \
      'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
      -sha256 -days 825 -extfile server.ext -out server.crt 2>/dev/null
    rm -f server.csr server.ext
    chmod 644 ca.crt server.crt
  )
}

# new_secret: a random API key, 32 bytes in hex: nothing in it that a shell or a command line
# could take for something else (base64url may start with "-").
new_secret() {
  openssl rand -hex 32
}
