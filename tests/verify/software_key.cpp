#include "tests/verify/software_key.h"

#include "firmware/jose/base64url.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

#include <stdexcept>
#include <vector>

namespace signet::verify::testing {
namespace {

std::string bn_member(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error("no bn param");
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return b64(bytes);
}

std::string padded_bn_member(EVP_PKEY* key, const char* name, int width) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error("no bn param");
  std::string bytes(static_cast<std::size_t>(width), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), width);
  BN_free(bn);
  return b64(bytes);
}

}  // namespace

std::string b64(std::string_view bytes) { return jose::base64url_encode(bytes); }

SoftwareKey::SoftwareKey(std::string alg, std::string kid, int rsa_bits)
    : alg_(std::move(alg)), kid_(std::move(kid)) {
  EVP_PKEY* key = nullptr;
  if (alg_ == "ES256") key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else if (alg_ == "EdDSA") key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  else key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(rsa_bits));
  if (key == nullptr) throw std::runtime_error("keygen failed");
  key_.reset(key);
}

nlohmann::json SoftwareKey::public_jwk() const {
  nlohmann::json jwk = {{"kid", kid_}, {"alg", alg_}, {"use", "sig"}};
  if (alg_ == "RS256" || alg_ == "PS256") {
    jwk["kty"] = "RSA";
    jwk["n"] = bn_member(key_.get(), OSSL_PKEY_PARAM_RSA_N);
    jwk["e"] = bn_member(key_.get(), OSSL_PKEY_PARAM_RSA_E);
  } else if (alg_ == "ES256") {
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = padded_bn_member(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32);
    jwk["y"] = padded_bn_member(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32);
  } else {
    unsigned char raw[32];
    std::size_t len = sizeof raw;
    EVP_PKEY_get_raw_public_key(key_.get(), raw, &len);
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] = b64(std::string_view(reinterpret_cast<char*>(raw), len));
  }
  return jwk;
}

std::string SoftwareKey::sign(std::string_view input) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx, &pctx, alg_ == "EdDSA" ? nullptr : EVP_sha256(), nullptr, key_.get());
  if (alg_ == "PS256") {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
  }
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, in, input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg_ != "ES256") return sig;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(ecdsa);
  return raw;
}

std::string SoftwareKey::token(std::string_view header_json, std::string_view payload_json) const {
  const std::string input = b64(header_json) + "." + b64(payload_json);
  return input + "." + b64(sign(input));
}

std::string SoftwareKey::header() const {
  return nlohmann::json{{"alg", alg_}, {"kid", kid_}, {"typ", "signet+jwt"}}.dump();
}

const SoftwareKey& es256_key() {
  static const SoftwareKey key("ES256", "es-1");
  return key;
}
const SoftwareKey& rs256_key() {
  static const SoftwareKey key("RS256", "rs-1");
  return key;
}
const SoftwareKey& ps256_key() {
  static const SoftwareKey key("PS256", "ps-1");
  return key;
}
const SoftwareKey& eddsa_key() {
  static const SoftwareKey key("EdDSA", "ed-1");
  return key;
}

const KeySet& all_keys() {
  static const KeySet keys = [] {
    const std::vector<nlohmann::json> jwks = {es256_key().public_jwk(), rs256_key().public_jwk(),
                                              ps256_key().public_jwk(), eddsa_key().public_jwk()};
    auto imported = KeySet::from_jwk_objects(jwks);
    if (imported.keys.size() != 4) throw std::runtime_error("test keys refused");
    return imported.keys;
  }();
  return keys;
}

std::string good_claims() {
  return nlohmann::json{{"iss", "https://signet.test"}, {"aud", "svc-a"}, {"sub", "user-1"},
                        {"type", "access"}, {"iat", kNow - 10}, {"nbf", kNow - 10},
                        {"exp", kNow + 600}, {"jti", "j-1"}}
      .dump();
}

Expectations expectations() {
  Expectations e;
  e.issuer = "https://signet.test";
  e.audience = "svc-a";
  e.typ = "signet+jwt";
  e.profile = "access";
  e.leeway_seconds = 30;
  e.now = kNow;
  return e;
}

}  // namespace signet::verify::testing
