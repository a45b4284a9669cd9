// Public JWKs (RFC 7517/7518) and their RFC 7638 thumbprints, from the public half of a key.
// Only public members are ever produced: there is no field here that could hold a private one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace signet::jose {

enum class Alg { kRS256, kPS256, kES256, kEdDSA };

std::string_view alg_name(Alg alg);
std::optional<Alg> parse_alg(std::string_view name);

// The public half of a key as unsigned big-endian byte strings.
struct PublicKey {
  Alg alg = Alg::kES256;
  std::string rsa_n;  // RSA: modulus, without leading zero bytes
  std::string rsa_e;  // RSA: public exponent, without leading zero bytes
  std::string ec_x;   // P-256: 32 bytes
  std::string ec_y;   // P-256: 32 bytes
  std::string okp_x;  // Ed25519: 32 bytes
};

// RFC 7638 §3: SHA-256 over the required members in lexicographic order, no whitespace,
// base64url encoded. This is the key's kid.
std::string thumbprint(const PublicKey& key);

// The JWK as compact JSON text: kty, kid, use "sig", alg and the public members.
std::string public_jwk_json(const PublicKey& key, std::string_view kid);

}  // namespace signet::jose
