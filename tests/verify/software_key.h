// Test helper: software signing keys made in the test with OpenSSL (not the HSM), to forge tokens
// that carry a *valid* signature over hostile content (duplicate members, crit, typ, time edges).
// The SoftHSM-signed variants of the same attacks are added by the HSM tests.
#pragma once

#include "firmware/verify/verifier.h"

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

namespace signet::verify::testing {

std::string b64(std::string_view bytes);

class SoftwareKey {
 public:
  // alg: RS256, PS256, ES256 or EdDSA; rsa_bits only for RSA.
  SoftwareKey(std::string alg, std::string kid, int rsa_bits = 2048);

  const std::string& alg() const { return alg_; }
  const std::string& kid() const { return kid_; }
  EVP_PKEY* pkey() const { return key_.get(); }
  nlohmann::json public_jwk() const;
  // The JWS signature (ES256 in r||s form) over exact bytes.
  std::string sign(std::string_view input) const;
  // b64(header).b64(payload).b64(sig) with the texts taken verbatim (so they may be hostile).
  std::string token(std::string_view header_json, std::string_view payload_json) const;
  // A well-formed header for this key: {"alg":...,"kid":...,"typ":"signet+jwt"}.
  std::string header() const;

 private:
  struct Free {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  std::string alg_, kid_;
  std::unique_ptr<EVP_PKEY, Free> key_;
};

// Keys made once per test binary (RSA generation is slow).
const SoftwareKey& es256_key();
const SoftwareKey& rs256_key();
const SoftwareKey& ps256_key();
const SoftwareKey& eddsa_key();
// A set holding the four keys above.
const KeySet& all_keys();

// Time used by tests: tokens are built around it and Expectations::now is set to it.
inline constexpr std::int64_t kNow = 1'700'000'000;
// A payload valid at kNow for the expectations from expectations().
std::string good_claims();
Expectations expectations();

}  // namespace signet::verify::testing
