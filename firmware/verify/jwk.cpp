// JWK -> OpenSSL public key under an import policy (RFC 7517, RFC 7518 §6, RFC 8037 §2), one
// entry at a time. Every refusal names its reason so that an operator can see why a key from a
// JWKS is not used; no refusal ever prints key material.
#include "firmware/jose/base64url.h"
#include "firmware/verify/key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <array>

namespace signet::verify::internal {
namespace {

using json = nlohmann::json;

struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct BnDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

JwkImport refuse(std::string why) { return JwkImport{std::nullopt, std::move(why)}; }

bool allowed(const KeyPolicy& policy, Scheme s) {
  return std::find(policy.schemes.begin(), policy.schemes.end(), s) != policy.schemes.end();
}

// A member that must be a string in canonical base64url; nullopt when absent or not.
std::optional<std::string> b64_member(const json& jwk, const char* name) {
  const auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) return std::nullopt;
  return jose::base64url_decode(it->get_ref<const std::string&>());
}

PkeyPtr from_params(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return nullptr;
  PkeyPtr key(raw);
  // Checks the EC point is on the curve and in the right subgroup; RSA sanity for n and e.
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> check(EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return key;
}

JwkImport import_rsa(const json& jwk, const KeyPolicy& policy, std::optional<Scheme> alg) {
  // RS256 and PS256 keys look alike: without `alg` the binding would be a guess.
  if (!alg) return refuse("RSA key without alg (RS256 or PS256 cannot be guessed)");
  if (*alg != Scheme::kRs256 && *alg != Scheme::kPs256 && *alg != Scheme::kPs384) {
    return refuse("alg does not fit an RSA key");
  }
  const auto n = b64_member(jwk, "n");
  const auto e = b64_member(jwk, "e");
  if (!n || !e || n->empty() || e->empty()) return refuse("RSA n or e missing or not base64url");
  // Base64urlUInt is minimal (RFC 7518 §2): no leading zero octet.
  if (n->front() == '\0' || e->front() == '\0') return refuse("RSA n or e has a leading zero");
  if (e->size() > 8) return refuse("RSA e too large");
  BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
  BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) return refuse("RSA n or e unreadable");
  const int bits = BN_num_bits(bn_n.get());
  if (bits < policy.min_rsa_bits) return refuse("RSA key shorter than " + std::to_string(policy.min_rsa_bits) + " bits");
  if (bits > policy.max_rsa_bits) return refuse("RSA key longer than " + std::to_string(policy.max_rsa_bits) + " bits");
  if (!BN_is_odd(bn_e.get()) || BN_get_word(bn_e.get()) < 65537) return refuse("RSA e must be odd and >= 65537");
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return refuse("RSA key unreadable");
  }
  PkeyPtr key = from_params("RSA", bld.get());
  if (!key) return refuse("RSA key refused by OpenSSL");
  return JwkImport{PublicKey{"", *alg, std::move(key)}, ""};
}

JwkImport import_ec(const json& jwk, std::optional<Scheme> alg) {
  const auto crv = jwk.find("crv");
  if (crv == jwk.end() || !crv->is_string()) return refuse("EC key without crv");
  Scheme scheme;
  std::size_t size;
  const char* group;
  if (*crv == "P-256") {
    scheme = Scheme::kEs256, size = 32, group = "P-256";
  } else if (*crv == "P-521") {
    scheme = Scheme::kEs512, size = 66, group = "P-521";
  } else {
    return refuse("EC curve not allowed");
  }
  if (alg && *alg != scheme) return refuse("alg does not fit the EC curve");
  const auto x = b64_member(jwk, "x");
  const auto y = b64_member(jwk, "y");
  // Full-length coordinates (RFC 7518 §6.2.1.2): no shortened or padded forms.
  if (!x || !y || x->size() != size || y->size() != size) return refuse("EC x or y missing or not full length");
  std::string point = "\x04" + *x + *y;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return refuse("EC key unreadable");
  }
  PkeyPtr key = from_params("EC", bld.get());
  if (!key) return refuse("EC point not on the curve");
  return JwkImport{PublicKey{"", scheme, std::move(key)}, ""};
}

JwkImport import_okp(const json& jwk, std::optional<Scheme> alg) {
  const auto crv = jwk.find("crv");
  if (crv == jwk.end() || *crv != "Ed25519") return refuse("OKP curve not allowed");
  if (alg && *alg != Scheme::kEdDsa) return refuse("alg does not fit an Ed25519 key");
  const auto x = b64_member(jwk, "x");
  if (!x || x->size() != 32) return refuse("Ed25519 x missing or not 32 bytes");
  PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                          reinterpret_cast<const unsigned char*>(x->data()), x->size()));
  if (!key) return refuse("Ed25519 key refused by OpenSSL");
  return JwkImport{PublicKey{"", Scheme::kEdDsa, std::move(key)}, ""};
}

}  // namespace

const KeyPolicy& relying_party_policy() {
  static const KeyPolicy policy{{Scheme::kRs256, Scheme::kPs256, Scheme::kEs256, Scheme::kEdDsa}, 2048, 8192};
  return policy;
}

JwkImport import_public_jwk(const json& jwk, const KeyPolicy& policy) {
  if (!jwk.is_object()) return refuse("not a JSON object");
  static constexpr std::array kPrivate = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
  for (const char* name : kPrivate) {
    if (jwk.contains(name)) return refuse("carries private or symmetric key members");
  }
  const auto kid = jwk.find("kid");
  if (kid == jwk.end() || !kid->is_string() || kid->get_ref<const std::string&>().empty()) {
    return refuse("no kid");
  }
  if (const auto use = jwk.find("use"); use != jwk.end() && *use != "sig") return refuse("use is not sig");
  if (const auto ops = jwk.find("key_ops"); ops != jwk.end()) {
    if (!ops->is_array() || std::find(ops->begin(), ops->end(), json("verify")) == ops->end()) {
      return refuse("key_ops does not allow verify");
    }
  }
  std::optional<Scheme> alg;
  if (const auto it = jwk.find("alg"); it != jwk.end()) {
    if (!it->is_string()) return refuse("alg is not a string");
    alg = scheme_from_name(it->get_ref<const std::string&>());
    if (!alg || !allowed(policy, *alg)) return refuse("alg not allowed");
  }
  const auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) return refuse("no kty");
  JwkImport out;
  if (*kty == "RSA") {
    out = import_rsa(jwk, policy, alg);
  } else if (*kty == "EC") {
    out = import_ec(jwk, alg);
  } else if (*kty == "OKP") {
    out = import_okp(jwk, alg);
  } else if (*kty == "oct") {
    return refuse("symmetric (oct) keys are refused");
  } else {
    return refuse("kty not supported");
  }
  ERR_clear_error();
  if (!out.key) return out;
  if (!allowed(policy, out.key->scheme)) return refuse("alg not allowed");
  out.key->kid = kid->get<std::string>();
  return out;
}

}  // namespace signet::verify::internal
