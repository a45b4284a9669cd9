#include "http/tls_identity.h"

#include <gnutls/pkcs11.h>
#include <gnutls/x509.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <set>
#include <utility>

#include "base/catch_all.h"

namespace signet::http {
namespace {

// A certificate chain longer than this is a configuration mistake, not a real deployment.
constexpr unsigned kMaxChain = 16;

Error tls_error(const std::string& what, int rv) {
  return make_error(Code::kTls, what + ": " + gnutls_strerror(rv));
}

// GnuTLS's PKCS#11 state is process-wide: initialize it once, in manual mode, and add each
// module once. Nothing here ever calls gnutls_pkcs11_deinit: it would close the sessions of
// keys that handshakes may still use.
Status add_provider(const std::string& module_path) {
  static std::mutex mu;
  static bool initialized = false;
  static std::set<std::string> added;
  std::lock_guard lock(mu);
  if (!initialized) {
    int rv = gnutls_pkcs11_init(GNUTLS_PKCS11_FLAG_MANUAL, nullptr);
    if (rv < 0) return make_error(Code::kHsmModule, std::string("gnutls_pkcs11_init failed: ") +
                                                        gnutls_strerror(rv));
    initialized = true;
  }
  if (added.count(module_path) != 0) return ok_status();
  int rv = gnutls_pkcs11_add_provider(module_path.c_str(), nullptr);
  if (rv < 0) {
    return make_error(Code::kHsmModule, "GnuTLS cannot load the PKCS#11 module '" + module_path +
                                            "': " + gnutls_strerror(rv));
  }
  added.insert(module_path);
  return ok_status();
}

Status check_uri(std::string_view uri) {
  if (uri.rfind("pkcs11:", 0) != 0) {
    return make_error(Code::kConfig, "tls.key_uri must be a PKCS#11 URI (pkcs11:...)");
  }
  // GnuTLS would honour these, which would put the PIN into the configuration file.
  for (std::string_view attr : {"pin-value=", "pin-source="}) {
    if (uri.find(attr) != std::string_view::npos) {
      return make_error(Code::kConfig, "tls.key_uri must not carry " + std::string(attr) +
                                           "; the PIN comes from the PIN file");
    }
  }
  return ok_status();
}

// A DER certificate's notAfter, or 0 when it cannot be read (then /metrics leaves it out).
std::int64_t leaf_not_after(const gnutls_datum_t& der) {
  gnutls_x509_crt_t cert = nullptr;
  if (gnutls_x509_crt_init(&cert) < 0) return 0;
  const std::int64_t not_after = gnutls_x509_crt_import(cert, &der, GNUTLS_X509_FMT_DER) < 0
                                     ? 0 : static_cast<std::int64_t>(gnutls_x509_crt_get_expiration_time(cert));
  gnutls_x509_crt_deinit(cert);
  return not_after;
}

// The served identity, and every identity ever served (see serve()).
std::atomic<TlsIdentity*> g_served{nullptr};
std::mutex g_served_mu;
std::vector<std::unique_ptr<TlsIdentity>>& retained() {
  static auto* keys = new std::vector<std::unique_ptr<TlsIdentity>>();  // never destroyed: see serve()
  return *keys;
}

}  // namespace

int TlsIdentity::answer_pin(void* userdata, int attempt, const char* /*token_url*/,
                          const char* /*token_label*/, unsigned int flags, char* pin,
                          size_t pin_max) noexcept try {
  auto* once = static_cast<PinOnce*>(userdata);
  // Any second request means the first PIN was wrong or the login was lost: never try again.
  if (++once->requests > 1 || attempt != 0 || (flags & GNUTLS_PIN_WRONG) != 0) return -1;
  if (once->pin.empty() || once->pin.size() >= pin_max) return -1;
  std::memcpy(pin, once->pin.data(), once->pin.size());
  pin[once->pin.size()] = '\0';
  return 0;
} catch (...) {  // a GnuTLS callback: nothing may unwind through it; no PIN is given
  log_exception("tls_pin_callback");
  return -1;
}

Result<std::unique_ptr<TlsIdentity>> TlsIdentity::from_pem(const std::string& cert_chain_pem,
                                                          const SecretString& key_pem) {
  std::unique_ptr<TlsIdentity> identity(new TlsIdentity());
  int rv = gnutls_privkey_init(&identity->privkey_);
  if (rv < 0) return tls_error("gnutls_privkey_init", rv);
  const gnutls_datum_t key{reinterpret_cast<unsigned char*>(const_cast<char*>(key_pem.view().data())),
                           static_cast<unsigned>(key_pem.view().size())};
  rv = gnutls_privkey_import_x509_raw(identity->privkey_, &key, GNUTLS_X509_FMT_PEM, nullptr, 0);
  if (rv < 0) return tls_error("cannot read the TLS private key", rv);
  if (Status chain = identity->adopt_chain(cert_chain_pem, "the TLS private key"); !chain.ok()) return chain.error();
  return identity;
}

Result<std::unique_ptr<TlsIdentity>> TlsIdentity::from_token(const TokenKey& token_key, std::string_view pin) {
  if (Status uri = check_uri(token_key.key_uri); !uri.ok()) return uri.error();
  if (Status provider = add_provider(token_key.module_path); !provider.ok()) return provider.error();

  std::unique_ptr<TlsIdentity> identity(new TlsIdentity());
  int rv = gnutls_privkey_init(&identity->privkey_);
  if (rv < 0) return tls_error("gnutls_privkey_init", rv);
  // Per key rather than gnutls_pkcs11_set_pin_function: the global one would answer for every
  // PKCS#11 object in the process, and would have to hold the PIN for as long as it is set.
  gnutls_privkey_set_pin_function(identity->privkey_, &TlsIdentity::answer_pin, &identity->pin_once_);
  identity->pin_once_.pin = pin;
  rv = gnutls_privkey_import_url(identity->privkey_, token_key.key_uri.c_str(), 0);
  identity->pin_once_.pin = {};
  unsigned pin_requests = identity->pin_once_.requests;
  identity->pin_once_.requests = 1;  // from now on every request is refused
  if (rv == GNUTLS_E_PKCS11_PIN_ERROR || rv == GNUTLS_E_PKCS11_PIN_LOCKED) {
    if (pin.empty() && pin_requests == 1) {
      return make_error(Code::kHsmPin, "the token of tls.key_uri needs a login and no PIN was "
                                       "given (open the Hsm on that token first)");
    }
    return make_error(Code::kHsmPin, std::string("the token of tls.key_uri refused the PIN, "
                                                 "which is not tried again: ") +
                                         gnutls_strerror(rv));
  }
  if (rv < 0) return tls_error("cannot use the TLS key at '" + token_key.key_uri + "'", rv);
  const std::string key_name = "the TLS key at '" + token_key.key_uri + "'";
  if (Status chain = identity->adopt_chain(token_key.cert_chain_pem, key_name); !chain.ok()) return chain.error();
  return identity;
}

Status TlsIdentity::adopt_chain(const std::string& cert_chain_pem, const std::string& key_name) {
  gnutls_pcert_st chain[kMaxChain];
  unsigned count = kMaxChain;
  gnutls_datum_t pem{reinterpret_cast<unsigned char*>(const_cast<char*>(cert_chain_pem.data())),
                     static_cast<unsigned>(cert_chain_pem.size())};
  // Sorted into leaf-first order, as GnuTLS does for a certificate file it loads itself.
  int rv = gnutls_pcert_list_import_x509_raw(chain, &count, &pem, GNUTLS_X509_FMT_PEM, GNUTLS_X509_CRT_LIST_SORT);
  if (rv < 0) return tls_error("cannot read the TLS certificate chain", rv);
  if (count == 0) return make_error(Code::kTls, "the TLS certificate chain is empty");
  pcerts_.assign(chain, chain + count);
  not_after_ = leaf_not_after(pcerts_[0].cert);

  // Sign a probe with the key and verify it with the leaf: proves that the key answers and is
  // the leaf's, before a client finds out in a failed handshake.
  gnutls_pubkey_t leaf = pcerts_[0].pubkey;
  gnutls_digest_algorithm_t hash = GNUTLS_DIG_SHA256;
  gnutls_pubkey_get_preferred_hash_algorithm(leaf, &hash, nullptr);
  auto pk = static_cast<gnutls_pk_algorithm_t>(gnutls_pubkey_get_pk_algorithm(leaf, nullptr));
  gnutls_sign_algorithm_t algo = gnutls_pk_to_sign(pk, hash);
  static const char kProbe[] = "signet tls key probe";
  gnutls_datum_t probe{reinterpret_cast<unsigned char*>(const_cast<char*>(kProbe)), sizeof kProbe - 1};
  gnutls_datum_t signature{};
  rv = gnutls_privkey_sign_data2(privkey_, algo, 0, &probe, &signature);
  if (rv < 0) return tls_error(key_name + " cannot sign", rv);
  rv = gnutls_pubkey_verify_data2(leaf, algo, 0, &probe, &signature);
  gnutls_free(signature.data);
  if (rv < 0) return make_error(Code::kTls, key_name + " is not the key of the certificate's leaf");
  return ok_status();
}

TlsIdentity::~TlsIdentity() {
  for (gnutls_pcert_st& pcert : pcerts_) gnutls_pcert_deinit(&pcert);
  if (privkey_ != nullptr) gnutls_privkey_deinit(privkey_);
}

void TlsIdentity::serve(std::unique_ptr<TlsIdentity> identity) {
  std::lock_guard lock(g_served_mu);
  g_served.store(identity.get(), std::memory_order_release);
  retained().push_back(std::move(identity));
}

bool TlsIdentity::serving() { return g_served.load(std::memory_order_acquire) != nullptr; }

std::optional<std::int64_t> TlsIdentity::served_not_after() {
  const TlsIdentity* identity = g_served.load(std::memory_order_acquire);
  if (!identity || identity->not_after_ <= 0) return std::nullopt;
  return identity->not_after_;
}

int TlsIdentity::certificate_callback(gnutls_session_t session,
                                    const gnutls_datum_t* /*req_ca_dn*/, int /*nreqs*/,
                                    const gnutls_pk_algorithm_t* /*pk_algos*/,
                                    int /*pk_algos_length*/, gnutls_pcert_st** pcert,
                                    unsigned int* pcert_length, gnutls_privkey_t* privkey) noexcept try {
  TlsIdentity* identity = g_served.load(std::memory_order_acquire);
  if (identity == nullptr) return -1;
  // Name no CA when asking for a client certificate: libmicrohttpd would name the client CA
  // of the start, which SIGHUP may have replaced, and clients that filter by the names (Go,
  // Java, browsers) would then hold back a certificate of the new CA. Each request verifies
  // whatever certificate comes against the current CA (client_trust.h).
  gnutls_certificate_send_x509_rdn_sequence(session, 1);
  *pcert = identity->pcerts();
  *pcert_length = identity->pcert_count();
  *privkey = identity->privkey();
  return 0;
} catch (...) {  // a C callback (libmicrohttpd, GnuTLS): the handshake fails, the server goes on
  log_exception("tls_certificate_callback");
  return -1;
}

}  // namespace signet::http
