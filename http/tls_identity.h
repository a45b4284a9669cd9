// The HTTPS server's identity: its certificate chain and private key, as libmicrohttpd's
// certificate callback (MHD_OPTION_HTTPS_CERT_CALLBACK) hands them to GnuTLS at each handshake.
// Answering from a callback rather than fixing the pair at start lets SIGHUP serve a new
// certificate to new handshakes while open connections go on undisturbed.
//
// The key comes from a PEM file (tls.key_file) or stays in the PKCS#11 token (tls.key_uri), so
// that the appliance holds no private key on disk: GnuTLS then signs each handshake through
// the token.
//
// How a token key shares the module with hsm::Hsm in one process (measured with SoftHSM2 2.6.1,
// GnuTLS 3.7.9, p11-kit 0.24.1 and a pkcs11-spy trace; tests/tls_hsm pins each point down):
//  - GnuTLS is set to load no module by itself (gnutls_pkcs11_init(GNUTLS_PKCS11_FLAG_MANUAL)):
//    left alone it would load every p11-kit registered module (opensc-pkcs11, softhsm2).
//    from_token() must therefore be the first use of GnuTLS's PKCS#11 support in the process.
//  - gnutls_pkcs11_add_provider() loads the same library through p11-kit; dlopen hands back
//    the copy the Hsm already has, so there is one Cryptoki state. Its C_Initialize answers
//    CKR_CRYPTOKI_ALREADY_INITIALIZED; p11-kit accepts that and never calls C_Finalize for it
//    (not at gnutls_pkcs11_deinit, not at exit).
//  - Login is per process and token: when the Hsm is logged in, GnuTLS sees a logged-in
//    session, never calls C_Login and never asks for the PIN. So the daemon, which wipes the
//    PIN after Hsm::open, passes an empty PIN here when the key lives in the Hsm's token.
//  - Order: open the Hsm FIRST, then from_token(), and destroy the HTTPS server, then this,
//    then the Hsm. The other order is worse: when GnuTLS logs in first, Hsm::open's C_Login
//    answers CKR_USER_ALREADY_LOGGED_IN for ANY PIN, so a wrong configured PIN passes
//    unnoticed, and p11-kit owns the initialization.
//  - The Hsm must outlive the key: its C_Logout (last Token gone) invalidates the key's object
//    handle (C_SignInit: CKR_OBJECT_HANDLE_INVALID) and GnuTLS never looks the object up again,
//    not even after a new login; its C_Finalize makes every sign CKR_CRYPTOKI_NOT_INITIALIZED.
//  - A wrong PIN is tried once: the callback answers the PIN once and refuses any second
//    request, so GnuTLS gives up after one C_Login (CKR_PIN_INCORRECT) instead of counting
//    down the token's retry counter.
#pragma once

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/secret.h"

namespace signet::http {

class TlsIdentity {
 public:
  struct TokenKey {
    std::string module_path;     // the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so
    std::string key_uri;         // RFC 7512, e.g. "pkcs11:token=signet;object=tls;type=private"
    std::string cert_chain_pem;  // the leaf certificate first, then its intermediates
  };

  // The chain (leaf first) and its key from PEM text. Errors: kTls (unreadable, or the key is
  // not the leaf's).
  static Result<std::unique_ptr<TlsIdentity>> from_pem(const std::string& cert_chain_pem,
                                                       const SecretString& key_pem);

  // Loads the module into GnuTLS (once per process and path), imports the key by its URI,
  // the chain from PEM, and proves the pair by signing a probe with the key and verifying it
  // with the leaf's public key. `pin` is used for at most one C_Login and only when this
  // process is not logged in to the token yet; it is not kept. A URI carrying pin-value or
  // pin-source is refused: the PIN comes from the PIN file, never from the configuration.
  // Errors: kConfig (bad URI), kHsmModule (module not loadable), kHsmPin (PIN refused, not
  // retried, or needed but empty), kTls (key not found, chain unreadable, key and leaf differ).
  static Result<std::unique_ptr<TlsIdentity>> from_token(const TokenKey& key, std::string_view pin);

  TlsIdentity(const TlsIdentity&) = delete;
  TlsIdentity& operator=(const TlsIdentity&) = delete;
  ~TlsIdentity();

  // What a gnutls_certificate_retrieve_function2 answers; owned here, never freed by GnuTLS.
  gnutls_pcert_st* pcerts() { return pcerts_.data(); }
  unsigned pcert_count() const { return static_cast<unsigned>(pcerts_.size()); }
  gnutls_privkey_t privkey() const { return privkey_; }

  // libmicrohttpd's certificate callback carries no user pointer, so the identity it hands
  // out is process-wide. serve() makes `identity` the one certificate_callback() answers from
  // now on. Served identities are kept until exit: a handshake that began with the previous
  // one may still be using its pcerts and privkey, and GnuTLS does not tell when it is done
  // (a reload that changes the certificate costs one small object, and with a token key one
  // token session).
  static void serve(std::unique_ptr<TlsIdentity> identity);
  static bool serving();
  // The served leaf certificate's notAfter (Unix seconds), for /metrics; nullopt when none.
  static std::optional<std::int64_t> served_not_after();

  // For MHD_OPTION_HTTPS_CERT_CALLBACK. Answers the served identity, or -1 (the handshake
  // fails) when none is served or anything throws (logged).
  static int certificate_callback(gnutls_session_t session, const gnutls_datum_t* req_ca_dn,
                                  int nreqs, const gnutls_pk_algorithm_t* pk_algos,
                                  int pk_algos_length, gnutls_pcert_st** pcert,
                                  unsigned int* pcert_length, gnutls_privkey_t* privkey) noexcept;

 private:
  // The PIN callback's state: it must outlive from_token(), since GnuTLS may ask again at
  // sign time (a lost session), and then it must refuse.
  struct PinOnce {
    std::string_view pin;  // valid only inside from_token()
    std::atomic<unsigned> requests{0};  // handshakes may ask from several threads
  };
  static int answer_pin(void* userdata, int attempt, const char* token_url,
                        const char* token_label, unsigned int flags, char* pin, size_t pin_max) noexcept;

  TlsIdentity() = default;
  // Reads the chain and proves that privkey_ signs for its leaf; `key_name` names the key in
  // errors.
  Status adopt_chain(const std::string& cert_chain_pem, const std::string& key_name);

  PinOnce pin_once_;
  std::vector<gnutls_pcert_st> pcerts_;
  gnutls_privkey_t privkey_ = nullptr;
  std::int64_t not_after_ = 0;  // the leaf's
};

}  // namespace signet::http
