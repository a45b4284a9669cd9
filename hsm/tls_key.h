// The appliance's TLS server key, made inside the token by `signetctl init`: an EC P-256 key pair
// whose private half is sensitive, never extractable and signs only with CKM_ECDSA, which is what
// GnuTLS needs to sign handshakes, the self-signed certificate and the CSR through the token. No
// private key is ever on disk. The key is not one of the ring's: its label does not start with
// "signet:", so the key ring never lists, adopts or destroys it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "hsm/hsm.h"

namespace signet::hsm {

inline constexpr std::string_view kTlsKeyLabel = "signet-tls";

struct TlsKey {
  std::string id;     // CKA_ID of both halves: 16 random bytes
  std::string label;  // CKA_LABEL of both halves
  std::string ec_x;   // the public point, 32 bytes each
  std::string ec_y;
};

class TlsKeyStore {
 public:
  // Loads the module and logs in to the token, with the errors of Hsm::open (options.max_sessions
  // is not used). The login lasts as long as the store, so that GnuTLS, loading the same module
  // in this process, signs with the key without ever being given the PIN (see
  // http/tls_identity.h): open the store first, use GnuTLS, then destroy the store.
  static Result<std::unique_ptr<TlsKeyStore>> open(Options options);

  TlsKeyStore(const TlsKeyStore&) = delete;  // one owner of the login
  TlsKeyStore& operator=(const TlsKeyStore&) = delete;
  ~TlsKeyStore();

  // Generates the key pair with `label` and a random CKA_ID, then reads back CKA_LOCAL,
  // CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE and destroys a key that lacks any of them.
  Result<TlsKey> generate(std::string_view label = kTlsKeyLabel);

  // Destroys both halves of the key with this CKA_ID (to undo a provisioning that failed after
  // generate()). An absent key is not an error.
  Status destroy(std::string_view id);

 private:
  struct State;
  explicit TlsKeyStore(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace signet::hsm
