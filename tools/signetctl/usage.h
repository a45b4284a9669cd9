// signetctl's help: the overview (signetctl --help) and one text per verb (signetctl VERB --help).
#pragma once

namespace signet::ctl {

inline constexpr const char* kUsage =
    "usage: signetctl [--json] VERB ...\n"
    "  init --config-dir DIR --module PATH --token-label LABEL|--uri URI --pin-file FILE ...\n"
    "                                     first boot: TLS key in the token, certificate, CSR, config\n"
    "  hash-secret                        read an API key on stdin, print its SHA-256 for the config\n"
    "  jwks --url BASE                    print the published keys\n"
    "  token issue --url BASE --profile P --sub S [--aud A] [--ttl T] [--claims JSON]\n"
    "  keys list|rotate --url BASE        the key ring (an admin client's API key)\n"
    "  keys revoke KID --url BASE         remove a key from the JWKS and destroy it\n"
    "  verify --jwks URL [--aud A] [--iss I] [--typ T] TOKEN\n"
    "  audit verify FILE [--config C]     check the audit ledger's hash chain; with the config,\n"
    "                                     also that it reaches the head anchored in the token\n"
    "  audit reset-anchor --config C [FILE]  accept the ledger as it is and anchor its head anew\n"
    "Options: --cacert FILE trusts a CA for HTTPS; the API key comes from $SIGNET_API_KEY or\n"
    "--api-key-file FILE. 'signetctl VERB --help' describes a verb; --version prints the version.\n"
    "Exit codes: 0 ok, 1 failure (a refusal of the server included), 2 usage, 3 HSM, 4 TLS.\n";

inline constexpr const char* kInitHelp =
    "usage: signetctl init --config-dir DIR --module PATH --token-label LABEL|--uri URI --pin-file FILE\n"
    "                      [--issuer URL] [--listen ADDR:PORT] [--alg ES256|RS256|PS256|EdDSA]\n"
    "                      [--san NAME,...] [--pin-credential NAME] [--audit-file FILE] [--force]\n"
    "Provisions a Signet appliance on an initialised token (SoftHSM2 or an HSM slot):\n"
    "  - an EC P-256 TLS server key generated inside the token (sensitive, never extractable,\n"
    "    sign-only; no private key is ever on disk),\n"
    "  - DIR/tls/server.crt, a self-signed certificate for it, and DIR/tls/server.csr, a request\n"
    "    for the operator's CA (both signed by the token key),\n"
    "  - an admin API key, printed once (the config holds only its SHA-256),\n"
    "  - DIR/signet.json, which 'signetd --config DIR/signet.json' serves as it is.\n"
    "  --uri URI             the token as an RFC 7512 URI instead of --token-label: token=,\n"
    "                        serial=, slot-id= and ?module-path= (then --module may be left out)\n"
    "  --pin-file FILE       the user PIN (mode 0600 or 0400); read, never written or printed\n"
    "  --pin-credential NAME signetd reads the PIN from $CREDENTIALS_DIRECTORY/NAME (systemd\n"
    "                        LoadCredential=, as the packaged unit does) instead of --pin-file\n"
    "  --issuer URL          the tokens' iss (default https://<host name>:<port>)\n"
    "  --listen ADDR:PORT    where signetd listens (default 127.0.0.1:8443)\n"
    "  --alg ALG             the JWT signing algorithm (default ES256)\n"
    "  --san NAME,...        more DNS names or IP addresses for the certificate\n"
    "  --audit-file FILE     turn the audit ledger on (e.g. /var/lib/signet/audit.log)\n"
    "  --force               replace an existing DIR/signet.json (the old TLS key stays in the token)\n";

inline constexpr const char* kHashSecretHelp =
    "usage: signetctl hash-secret [--json] < KEYFILE\n"
    "Reads an API key on stdin and prints its SHA-256 in hex, the api_key_sha256 of a client.\n";

inline constexpr const char* kJwksHelp =
    "usage: signetctl jwks --url BASE [--cacert FILE] [--json]\n"
    "Prints the keys of BASE/.well-known/jwks.json (kid, alg, kty), or the JWKS with --json.\n";

inline constexpr const char* kTokenHelp =
    "usage: signetctl token issue --url BASE --profile P --sub S [--aud A] [--ttl T]\n"
    "                             [--claims JSON] [--cacert FILE] [--api-key-file FILE] [--json]\n"
    "Asks the server for a token (POST /v1/tokens) and prints it. The API key comes from\n"
    "$SIGNET_API_KEY or --api-key-file.\n";

inline constexpr const char* kKeysHelp =
    "usage: signetctl keys list|rotate|revoke KID --url BASE [--cacert FILE] [--api-key-file FILE]\n"
    "                                            [--json]\n"
    "The key ring through the admin routes (an admin client's API key): list the keys, promote\n"
    "the next key now, or revoke KID (it leaves the JWKS and is destroyed in the token).\n";

inline constexpr const char* kVerifyHelp =
    "usage: signetctl verify --jwks URL [--cacert FILE] [--aud A] [--iss I] [--typ T] [--json] TOKEN\n"
    "Checks TOKEN as a relying party does (the verifier library): exit 0 and its claims when\n"
    "valid, exit 1 and the reason when not.\n";

inline constexpr const char* kAuditHelp =
    "usage: signetctl audit verify FILE [--config CONFIG] [--json]\n"
    "       signetctl audit reset-anchor --config CONFIG [FILE] [--json]\n"
    "verify checks the audit ledger's hash chain: exit 0 when intact, 1 naming the first broken\n"
    "line; with --config it also checks that the chain reaches the head anchored in the token.\n"
    "reset-anchor accepts an intact ledger as it is: it appends an anchor_reset line and anchors\n"
    "the token's head there.\n";

}  // namespace signet::ctl
