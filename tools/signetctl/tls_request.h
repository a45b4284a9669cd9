// The appliance's first TLS certificate and its certificate signing request, both signed by the
// TLS key inside the token through GnuTLS's PKCS#11 support (the key never leaves the token).
// The certificate is self-signed so that signetd serves at once; the CSR, with the same subject
// and names, is for the operator's CA, whose answer replaces tls.cert_file later (SIGHUP).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace signet::ctl {

struct TlsSubject {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // as text: "127.0.0.1", "::1"
  unsigned days = 825;                    // validity of the self-signed certificate
};

struct TokenKeyRef {
  std::string module_path;  // loaded into GnuTLS in this process, after the token's login
  std::string key_uri;      // RFC 7512 URI of the private key
  std::string ec_x;         // its P-256 public point, 32 bytes each
  std::string ec_y;
};

struct TlsRequestFiles {
  std::string certificate_pem;
  std::string request_pem;
  std::string sha256_fingerprint;  // of the certificate, "AB:CD:..."
};

// The process must already be logged in to the key's token (hsm::TlsKeyStore): GnuTLS joins
// that login and is never given a PIN. Errors: kHsmModule (GnuTLS cannot load the module),
// kTls (the key cannot be used, or signing fails), kInvalidArgument (a name it cannot encode).
Result<TlsRequestFiles> make_certificate_and_request(const TokenKeyRef& key, const TlsSubject& subject);

}  // namespace signet::ctl
