// libFuzzer harness: the token parser and verify(). The first byte picks a mode so that the
// fuzzer also reaches the code behind a valid signature:
//   0: the rest is a token, verified as received (structure, header, base64url, signature);
//   1: the rest is a payload, signed here with an Ed25519 key the set trusts (strict JSON, claims);
//   2: the rest is a header, signed here over a good payload (header rules, alg/kid binding).
// A token must never verify unless this harness signed it with the trusted key.
#include "firmware/jose/base64url.h"
#include "firmware/verify/verifier.h"

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using signet::jose::base64url_encode;
using namespace signet::verify;

struct Fixture {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  KeySet keys;
  Fixture() {
    unsigned char raw[32];
    std::size_t len = sizeof raw;
    EVP_PKEY_get_raw_public_key(key, raw, &len);
    const nlohmann::json jwk = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"kid", "k1"}, {"alg", "EdDSA"},
                                {"x", base64url_encode(std::string(reinterpret_cast<char*>(raw), len))}};
    keys = KeySet::from_jwk_objects(std::vector<nlohmann::json>{jwk}).keys;
  }
  std::string sign(const std::string& input) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key);
    unsigned char sig[64];
    std::size_t len = sizeof sig;
    EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    return std::string(reinterpret_cast<char*>(sig), len);
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

Expectations expectations() {
  Expectations e;
  e.issuer = "https://signet.test";
  e.audience = "svc-a";
  e.typ = "signet+jwt";
  e.now = 1'700'000'000;
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Fixture& f = fixture();
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      const VerifyResult r = verify(f.keys, rest, expectations());
      if (r.valid) __builtin_trap();  // a forgery: only this harness can sign for k1
      (void)peek_kid(rest);
      break;
    }
    case 1: {
      const std::string input = base64url_encode(R"({"alg":"EdDSA","kid":"k1","typ":"signet+jwt"})") + "." +
                                base64url_encode(rest);
      const VerifyResult r = verify(f.keys, input + "." + base64url_encode(f.sign(input)), expectations());
      if (r.valid && !r.claims.is_object()) __builtin_trap();
      break;
    }
    default: {
      const std::string input = base64url_encode(rest) + "." +
                                base64url_encode(R"({"iss":"https://signet.test","aud":"svc-a","exp":1700000600})");
      const VerifyResult r = verify(f.keys, input + "." + base64url_encode(f.sign(input)), expectations());
      if (r.valid && r.kid != "k1") __builtin_trap();
      break;
    }
  }
  return 0;
}
