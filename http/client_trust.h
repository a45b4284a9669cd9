// The CA that client certificates must chain to (tls.client_ca_file), and the check each
// request makes: libmicrohttpd only asks for a certificate, it verifies nothing. The server
// holds the current ClientTrust behind an atomic pointer, so SIGHUP can swap in a new CA while
// requests verify against the one they loaded.
#pragma once

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"

namespace signet::http {

class ClientTrust {
 public:
  // The CA certificates in PEM. Errors: kTls when the text holds no usable CA certificate.
  static Result<std::shared_ptr<const ClientTrust>> from_pem(const std::string& ca_pem);

  ClientTrust(const ClientTrust&) = delete;
  ClientTrust& operator=(const ClientTrust&) = delete;
  ~ClientTrust();

  struct Verdict {
    std::optional<std::string> subject;  // nullopt: refused
    std::time_t recheck_at = 0;          // the verdict holds until then, for the same chain
  };

  // Whether the peer's chain (DER, leaf first) verifies against this CA at `now` for TLS
  // client use, with keys and signatures of at least GnuTLS's "medium" profile (112-bit
  // security: RSA 2048, P-256); if so, the subject (RFC 4514) of the leaf. A refusal (no
  // certificate, another CA, expired, not for client authentication, weak, unreadable) has no
  // subject. recheck_at is the chain's first expiry, and at most kRecheckSeconds away, so that
  // a cached verdict also notices the CA's own expiry.
  Verdict check(const gnutls_datum_t* chain, unsigned count, std::time_t now) const;
  static constexpr std::time_t kRecheckSeconds = 60;

  // The PEM it was made from.
  const std::string& pem() const { return pem_; }

 private:
  ClientTrust() = default;
  gnutls_x509_trust_list_t list_ = nullptr;
  std::string pem_;
};

}  // namespace signet::http
