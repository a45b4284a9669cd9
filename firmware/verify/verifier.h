// Signet's relying-party JWT verifier: given a trusted key set, a compact JWS and what the caller
// expects (issuer, audience, typ, profile, leeway), it answers the claims or one precise reason.
// Guarantees (RFC 8725): the algorithm comes from the key, never from the token; `none`, HMAC and
// any algorithm not bound to the key are refused; the signature is checked before any claim;
// strict base64url and strict JSON (depth cap, no duplicate names, UTF-8 only); no header ever
// makes it fetch, open or trust anything (jku, x5u, jwk, x5c, crit, cty, b64 are refused).
// Needs only OpenSSL 3 and nlohmann/json; no other part of Signet.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace signet::verify {

// Why a token was refused. to_string() gives the words of API.md (`POST /v1/verify`).
enum class Reason {
  kOk,
  kMalformed,       // structure, encoding, JSON, refused header members, claim types
  kUnknownKid,      // no key in the set carries the token's kid
  kBadSignature,
  kExpired,         // now >= exp + leeway
  kNotYetValid,     // now < nbf - leeway, or iat > now + leeway
  kWrongIssuer,
  kWrongAudience,
  kWrongType,       // header typ or the `type` (profile) claim
  kAlgNotAllowed,   // header alg is not the one algorithm bound to the key
};
std::string_view to_string(Reason reason);

namespace internal {
struct PublicKey;
}

// An immutable set of public verification keys, each bound to exactly one algorithm:
// RS256 or PS256 (RSA >= 2048 bits, odd e >= 65537; an RSA JWK must name its `alg`, since
// RS256 vs PS256 cannot be guessed), ES256 (EC P-256), EdDSA (OKP Ed25519). Refused at import,
// one entry at a time: other curves and types, `oct` keys, keys carrying private members, keys
// without a kid, `use` other than "sig", `key_ops` without "verify", an `alg` that does not fit
// the key, and every entry of a kid that appears twice. Copies share the keys (cheap).
class KeySet {
 public:
  struct Import;  // defined below

  KeySet();
  // A JWKS document `{"keys":[...]}`.
  static Import from_jwks_json(std::string_view jwks_text);
  // Already-parsed JWKS: either `{"keys":[...]}` or a bare array of JWK objects.
  static Import from_jwks(const nlohmann::json& jwks);
  static Import from_jwk_objects(std::span<const nlohmann::json> jwk_objects);

  std::size_t size() const;
  bool contains(std::string_view kid) const;
  std::vector<std::string> kids() const;
  // "RS256", "PS256", "ES256" or "EdDSA"; empty when the kid is not in the set.
  std::string_view alg_of(std::string_view kid) const;
  // For the verifier itself; nullptr when the kid is not in the set.
  const internal::PublicKey* find(std::string_view kid) const;

 private:
  using Map = std::map<std::string, std::shared_ptr<const internal::PublicKey>, std::less<>>;
  explicit KeySet(std::shared_ptr<const Map> keys);
  std::shared_ptr<const Map> keys_;
};

struct KeySet::Import {
  bool ok = false;                     // false: the text was not a JWKS at all (keys is empty)
  std::string error;                   // set when !ok
  KeySet keys;                         // the accepted keys
  std::size_t skipped = 0;             // entries refused one by one
  std::vector<std::string> skipped_why;  // "keys[3] (kid ...): why"; never key material
};

struct Expectations {
  std::optional<std::string> issuer;    // `iss` must equal it exactly
  std::optional<std::string> audience;  // `aud` required: equal string, or an array holding it
  std::optional<std::string> typ;       // header `typ`, ignoring case and an "application/" prefix
  std::optional<std::string> profile;   // the `type` claim must equal it
  std::int64_t leeway_seconds = 30;     // clock skew allowed on exp/nbf/iat (negative means 0)
  std::optional<std::int64_t> now;      // Unix seconds; empty: the system clock
};

struct VerifyResult {
  bool valid = false;
  Reason reason = Reason::kMalformed;  // kOk when valid
  std::string kid;                     // the header's kid once the header parsed, else empty
  nlohmann::json claims;               // the payload object when valid, else null
};

// Caps applied before any decoding.
inline constexpr std::size_t kMaxTokenBytes = 8 * 1024;
inline constexpr std::size_t kMaxHeaderBytes = 1024;            // decoded header
inline constexpr std::int64_t kMaxNumericDate = 253402300799;  // 9999-12-31T23:59:59Z

VerifyResult verify(const KeySet& keys, std::string_view token, const Expectations& expect);

// The kid of a compact token's header, without verifying anything (to log or route by kid);
// std::nullopt when the header is malformed.
std::optional<std::string> peek_kid(std::string_view token);

}  // namespace signet::verify
