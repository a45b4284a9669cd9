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

# dev_client_ca DIR: a CA for mTLS clients (DIR/clients-ca.crt, DIR/clients-ca.key), EC P-256,
# made only if missing. It is not the server's dev CA: tls.client_ca_file trusts whatever its CA
# signs as a client, and the server's CA has no business vouching for clients.
dev_client_ca() {
  local dir=$1
  [[ -f $dir/clients-ca.crt && -f $dir/clients-ca.key ]] && return 0
  mkdir -p "$dir"
  (
    umask 077
    cd "$dir" || exit 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 825 \
      -keyout clients-ca.key -out clients-ca.crt -subj "/CN=Signet dev client CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    chmod 644 clients-ca.crt
  )
}

# dev_client_cert DIR NAME CN: a client certificate DIR/NAME.crt and its key DIR/NAME.key (0600)
# with subject CN=CN, signed by DIR's client CA (dev_client_ca), made only if missing. It carries
# extendedKeyUsage=clientAuth because signetd verifies the chain for TLS client use and refuses a
# certificate without that purpose. signetd compares the subject in RFC 4514 form: "CN=<CN>".
dev_client_cert() {
  local dir=$1 name=$2 cn=$3
  [[ -f $dir/$name.crt && -f $dir/$name.key ]] && return 0
  dev_client_ca "$dir"
  (
    umask 077
    cd "$dir" || exit 1
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
      -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn" 2>/dev/null
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
      'extendedKeyUsage=clientAuth' 'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid' >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA clients-ca.crt -CAkey clients-ca.key \
      -set_serial "0x$(openssl rand -hex 16)" -sha256 -days 825 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
    chmod 644 "$name.crt"
  )
}

# new_secret: a random API key, 32 bytes in hex: nothing in it that a shell or a command line
# could take for something else (base64url may start with "-").
new_secret() {
  openssl rand -hex 32
}
