#pragma once

namespace signet::ctl {

inline constexpr const char* kUsage =
    "usage: signetctl [--json] VERB ...\n"
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
    "--api-key-file FILE.\n";

}  // namespace signet::ctl
