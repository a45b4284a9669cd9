// The TLS material a configuration names (tls.cert_file, tls.key_file or tls.key_uri,
// tls.client_ca_file), read and turned into the server's identity the same way at start and
// at SIGHUP.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "base/secret.h"
#include "config/config.h"
#include "http/client_trust.h"
#include "http/tls_identity.h"

namespace signet {

struct TlsFiles {
  std::string cert_pem;
  SecretString key_pem;        // empty with tls.key_uri
  std::shared_ptr<const http::ClientTrust> client_trust;  // null without mTLS
  std::string identity_digest;  // SHA-256 of the certificate and the key (or its URI): equal
                                // digests mean the same server identity
};

// Reads the files and loads the client CA. Errors: kTls, naming the field and file that cannot
// be read, or the CA that holds no usable certificate.
Result<TlsFiles> read_tls_files(const config::Config& config);

// The server identity the files describe, its key and certificate proven to belong together.
// With tls.key_uri the key stays in the token of config.hsm, whose Hsm must be open already
// (the order tls_identity.h explains).
Result<std::unique_ptr<http::TlsIdentity>> load_tls_identity(const config::Config& config, const TlsFiles& files);

}  // namespace signet
