#include "http/client_trust.h"

#include <algorithm>
#include <array>

namespace signet::http {
namespace {

// A client chain longer than this is refused rather than verified.
constexpr unsigned kMaxChain = 8;

// The certificates of a peer's chain, freed together.
struct PeerChain {
  std::array<gnutls_x509_crt_t, kMaxChain> certs{};
  unsigned count = 0;
  ~PeerChain() {
    for (unsigned i = 0; i < count; ++i) gnutls_x509_crt_deinit(certs[i]);
  }
  bool import(const gnutls_datum_t* der, unsigned n) {
    if (n == 0 || n > kMaxChain) return false;
    for (; count < n; ++count) {
      if (gnutls_x509_crt_init(&certs[count]) < 0) return false;
      if (gnutls_x509_crt_import(certs[count], &der[count], GNUTLS_X509_FMT_DER) < 0) {
        ++count;  // initialized: the destructor frees it
        return false;
      }
    }
    return true;
  }
};

}  // namespace

Result<std::shared_ptr<const ClientTrust>> ClientTrust::from_pem(const std::string& ca_pem) {
  std::shared_ptr<ClientTrust> trust(new ClientTrust());
  if (gnutls_x509_trust_list_init(&trust->list_, 0) < 0) {
    return make_error(Code::kInternal, "GnuTLS could not allocate a trust list");
  }
  const gnutls_datum_t ca{reinterpret_cast<unsigned char*>(const_cast<char*>(ca_pem.data())),
                          static_cast<unsigned>(ca_pem.size())};
  const int count = gnutls_x509_trust_list_add_trust_mem(trust->list_, &ca, nullptr, GNUTLS_X509_FMT_PEM, 0, 0);
  if (count <= 0) return make_error(Code::kTls, "tls.client_ca_file holds no usable CA certificate");
  trust->pem_ = ca_pem;
  return std::shared_ptr<const ClientTrust>(std::move(trust));
}

ClientTrust::~ClientTrust() {
  if (list_) gnutls_x509_trust_list_deinit(list_, 1);
}

ClientTrust::Verdict ClientTrust::check(const gnutls_datum_t* der, unsigned n, std::time_t now) const {
  Verdict verdict;
  verdict.recheck_at = now + kRecheckSeconds;
  PeerChain chain;
  if (!der || !chain.import(der, n)) return verdict;
  gnutls_typed_vdata_st purpose{};
  purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
  purpose.data = reinterpret_cast<unsigned char*>(const_cast<char*>(GNUTLS_KP_TLS_WWW_CLIENT));
  unsigned status = 0;
  // The profile refuses weak keys and signatures in the chain (RSA under 2048 bits, SHA-1),
  // which a bare trust-list check would accept.
  constexpr unsigned kFlags = GNUTLS_PROFILE_TO_VFLAGS(GNUTLS_PROFILE_MEDIUM);
  if (gnutls_x509_trust_list_verify_crt2(list_, chain.certs.data(), chain.count, &purpose, 1, kFlags, &status,
                                         nullptr) < 0 ||
      status != 0) {
    return verdict;
  }
  for (unsigned i = 0; i < chain.count; ++i) {
    verdict.recheck_at = std::min(verdict.recheck_at, gnutls_x509_crt_get_expiration_time(chain.certs[i]));
  }
  gnutls_datum_t dn{};
  if (gnutls_x509_crt_get_dn3(chain.certs[0], &dn, 0) < 0) return verdict;
  verdict.subject.emplace(reinterpret_cast<const char*>(dn.data), dn.size);
  gnutls_free(dn.data);
  return verdict;
}

}  // namespace signet::http
