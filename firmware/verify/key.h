// Internal to the verifier (and its tests): a public key bound to one signature scheme, the JWK
// import policy, and the signature core. Nothing here reads a token header: the scheme of a key
// is fixed at import, so a token can only ever pick *which* key, never *how* to verify.
#pragma once

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signet::verify::internal {

// RS256, PS256, ES256 and EdDSA are what a KeySet binds. PS384 and ES512 exist only so that the
// RFC 7520 cookbook signatures (4.2, 4.3) can be checked by the same core in tests; the
// relying-party policy never binds them, so no token can reach them through verify().
enum class Scheme { kRs256, kPs256, kEs256, kEdDsa, kPs384, kEs512 };

std::string_view scheme_name(Scheme scheme);
std::optional<Scheme> scheme_from_name(std::string_view name);  // exact, case-sensitive

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct PublicKey {
  std::string kid;
  Scheme scheme;
  PkeyPtr pkey;
};

// Which keys an import accepts.
struct KeyPolicy {
  std::vector<Scheme> schemes;  // the algorithms a key may be bound to
  int min_rsa_bits = 2048;
  int max_rsa_bits = 8192;      // bounds the cost of one verification
};
// Signet's relying-party policy: RS256, PS256, ES256, EdDSA; RSA >= 2048 bits.
const KeyPolicy& relying_party_policy();

struct JwkImport {
  std::optional<PublicKey> key;
  std::string problem;  // why the JWK was refused; never key material
};
// One JWK object to a key, or the reason it is refused under the policy.
JwkImport import_public_jwk(const nlohmann::json& jwk, const KeyPolicy& policy);

// The signature core. `signing_input` is the exact bytes signed (for a JWS, the ASCII of
// "header.payload"); `signature` the decoded JWS signature bytes. ECDSA signatures must be the
// fixed-size r||s form (64 bytes for ES256) with 1 <= r,s < n; DER is refused.
bool verify_signature(const PublicKey& key, std::string_view signing_input,
                      std::string_view signature);

}  // namespace signet::verify::internal
