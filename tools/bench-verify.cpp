// bench_verify: tokens verified per second by the relying-party library on one thread, for each
// algorithm, with software keys made here. A measurement, not a test: nothing is asserted.
// Usage: bench_verify [seconds-per-algorithm]   (default 2)
#include "firmware/jose/base64url.h"
#include "firmware/verify/verifier.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using signet::jose::base64url_encode;
using json = nlohmann::json;

std::string bn_member(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return base64url_encode(bytes);
}

std::string sign(EVP_PKEY* key, const std::string& alg, const std::string& input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx, &pctx, alg == "EdDSA" ? nullptr : EVP_sha256(), nullptr, key);
  if (alg == "PS256") {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
  }
  std::size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg != "ES256") return sig;
  // DER -> the JWS r||s form.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(ecdsa);
  return raw;
}

json public_jwk(EVP_PKEY* key, const std::string& alg) {
  json jwk = {{"kid", "bench-" + alg}, {"alg", alg}, {"use", "sig"}};
  if (alg == "RS256" || alg == "PS256") {
    jwk["kty"] = "RSA";
    jwk["n"] = bn_member(key, OSSL_PKEY_PARAM_RSA_N);
    jwk["e"] = bn_member(key, OSSL_PKEY_PARAM_RSA_E);
  } else if (alg == "ES256") {
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = bn_member(key, OSSL_PKEY_PARAM_EC_PUB_X);
    jwk["y"] = bn_member(key, OSSL_PKEY_PARAM_EC_PUB_Y);
  } else {
    unsigned char raw[32];
    std::size_t len = sizeof raw;
    EVP_PKEY_get_raw_public_key(key, raw, &len);
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] = base64url_encode(std::string(reinterpret_cast<char*>(raw), len));
  }
  return jwk;
}

EVP_PKEY* generate(const std::string& alg) {
  if (alg == "ES256") return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (alg == "EdDSA") return EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  return EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048));
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  for (const std::string alg : {"ES256", "RS256", "PS256", "EdDSA"}) {
    EVP_PKEY* key = generate(alg);
    const auto imported = signet::verify::KeySet::from_jwk_objects(std::vector<json>{public_jwk(key, alg)});
    const std::int64_t now = 1'700'000'000;
    const json header = {{"alg", alg}, {"kid", "bench-" + alg}, {"typ", "signet+jwt"}};
    const json claims = {{"iss", "https://signet.test"}, {"aud", "svc-a"}, {"sub", "user-1"},
                         {"iat", now}, {"nbf", now}, {"exp", now + 600}, {"jti", "bench"}};
    const std::string input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
    const std::string token = input + "." + base64url_encode(sign(key, alg, input));
    signet::verify::Expectations expect;
    expect.issuer = "https://signet.test";
    expect.audience = "svc-a";
    expect.typ = "signet+jwt";
    expect.now = now;

    const auto start = std::chrono::steady_clock::now();
    std::size_t count = 0, valid = 0;
    double elapsed = 0;
    do {
      for (int i = 0; i < 100; ++i, ++count) valid += signet::verify::verify(imported.keys, token, expect).valid;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < seconds);
    std::printf("%-6s %9.0f tokens/s  (%zu verified, %zu valid, %zu-byte token)\n", alg.c_str(),
                static_cast<double>(count) / elapsed, count, valid, token.size());
    EVP_PKEY_free(key);
  }
  return 0;
}
