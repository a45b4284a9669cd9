#include "firmware/jose/jwk.h"

#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include "firmware/jose/base64url.h"

namespace signet::jose {
namespace {

// Base64urlUInt (RFC 7518 §2): the minimal big-endian form, so strip leading zero bytes.
std::string uint_member(std::string_view bytes) {
  while (bytes.size() > 1 && bytes.front() == '\0') bytes.remove_prefix(1);
  return base64url_encode(bytes);
}

// The members RFC 7638 hashes, in its required (lexicographic) order.
nlohmann::ordered_json required_members(const PublicKey& key) {
  nlohmann::ordered_json j;
  switch (key.alg) {
    case Alg::kRS256:
    case Alg::kPS256:
      j["e"] = uint_member(key.rsa_e);
      j["kty"] = "RSA";
      j["n"] = uint_member(key.rsa_n);
      break;
    case Alg::kES256:
      j["crv"] = "P-256";
      j["kty"] = "EC";
      j["x"] = base64url_encode(key.ec_x);
      j["y"] = base64url_encode(key.ec_y);
      break;
    case Alg::kEdDSA:
      j["crv"] = "Ed25519";
      j["kty"] = "OKP";
      j["x"] = base64url_encode(key.okp_x);
      break;
  }
  return j;
}

}  // namespace

std::string_view alg_name(Alg alg) {
  switch (alg) {
    case Alg::kRS256: return "RS256";
    case Alg::kPS256: return "PS256";
    case Alg::kES256: return "ES256";
    case Alg::kEdDSA: return "EdDSA";
  }
  return "";
}

std::optional<Alg> parse_alg(std::string_view name) {
  for (Alg alg : {Alg::kRS256, Alg::kPS256, Alg::kES256, Alg::kEdDSA}) {
    if (alg_name(alg) == name) return alg;
  }
  return std::nullopt;
}

std::string thumbprint(const PublicKey& key) {
  const std::string canonical = required_members(key).dump();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string public_jwk_json(const PublicKey& key, std::string_view kid) {
  const auto members = required_members(key);
  nlohmann::ordered_json j;
  j["kty"] = members["kty"];
  j["kid"] = kid;
  j["use"] = "sig";
  j["alg"] = alg_name(key.alg);
  for (const auto& [name, value] : members.items()) {
    if (name != "kty") j[name] = value;
  }
  return j.dump();
}

}  // namespace signet::jose
