// RFC 7520 (JOSE cookbook) JWS examples, read in place. Signet verifies RS256, PS256, ES256 and
// EdDSA only, so:
//  - 4.1 (RS256): the signature verifies byte-exactly through the core and through verify()
//    (which then refuses the payload as `malformed`: it is prose, not a JWT claims object).
//  - 4.2 (PS384) and 4.3 (ES512, P-521): their signatures are checked by the same signature core
//    under a test-only key policy that binds PS384/ES512 (the core knows the parameters; the
//    relying-party policy never binds them). Through the public API they are refused: the key at
//    import ("alg not allowed" / curve), and the token as alg_not_allowed when its kid names a
//    key Signet does accept.
//  - 4.4-4.8 (HMAC, detached payload, JSON serialisations): refused.
#include "firmware/jose/base64url.h"
#include "firmware/verify/key.h"
#include "firmware/verify/verifier.h"
#include "tests/verify/software_key.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace signet::verify {
namespace {

using json = nlohmann::json;

json load(const std::string& name) {
  std::ifstream in(std::string(SIGNET_RFC7520_DIR) + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

// The public half of a cookbook key, with the alg the example uses.
json public_half(json key, const std::string& alg) {
  for (const char* m : {"d", "p", "q", "dp", "dq", "qi"}) key.erase(m);
  key["alg"] = alg;
  return key;
}

std::string signing_input(const std::string& compact) {
  return compact.substr(0, compact.rfind('.'));
}

std::string signature_of(const std::string& compact) {
  return *jose::base64url_decode(compact.substr(compact.rfind('.') + 1));
}

// verify() with a kid-matching ES256 key: the token's alg (PS384/ES512/HS256) is not bound to it.
Reason verify_against_es256_key_with_kid(const std::string& compact, const std::string& kid) {
  json jwk = testing::es256_key().public_jwk();
  jwk["kid"] = kid;
  const KeySet keys = KeySet::from_jwk_objects(std::vector<json>{jwk}).keys;
  return verify(keys, compact, testing::expectations()).reason;
}

TEST(Rfc7520, Rs256Example4_1VerifiesByteExact) {
  const json doc = load("4_1.rsa_v15_signature.json");
  const std::string compact = doc["output"]["compact"];
  const json& signing = doc["signing"];
  // Byte-exact: the compact form is exactly protected.payload.sig of the example.
  EXPECT_EQ(signing_input(compact), signing["sig-input"].get<std::string>());
  EXPECT_EQ(compact, signing["sig-input"].get<std::string>() + "." + signing["sig"].get<std::string>());

  // The full example key carries private members and no alg: refused at import for both.
  EXPECT_FALSE(internal::import_public_jwk(doc["input"]["key"], internal::relying_party_policy()).key);
  json no_alg = public_half(doc["input"]["key"], "RS256");
  no_alg.erase("alg");
  EXPECT_FALSE(internal::import_public_jwk(no_alg, internal::relying_party_policy()).key);

  const json jwk = public_half(doc["input"]["key"], "RS256");
  const auto imported = internal::import_public_jwk(jwk, internal::relying_party_policy());
  ASSERT_TRUE(imported.key) << imported.problem;
  EXPECT_TRUE(internal::verify_signature(*imported.key, signing_input(compact), signature_of(compact)));

  // Public API: the signature holds, then the payload (prose) is refused as a claims set.
  const KeySet keys = KeySet::from_jwk_objects(std::vector<json>{jwk}).keys;
  EXPECT_EQ(verify(keys, compact, testing::expectations()).reason, Reason::kMalformed);
  std::string tampered = compact;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(keys, tampered, testing::expectations()).reason, Reason::kBadSignature);
}

void check_outside_algorithm_set(const std::string& file, const std::string& alg,
                                 internal::Scheme scheme) {
  const json doc = load(file);
  const std::string compact = doc["output"]["compact"];
  const std::string kid = doc["input"]["key"]["kid"];
  const json jwk = public_half(doc["input"]["key"], alg);

  // The core verifies it under a policy that binds this scheme (tests only).
  const internal::KeyPolicy test_policy{{scheme}, 2048, 8192};
  const auto imported = internal::import_public_jwk(jwk, test_policy);
  ASSERT_TRUE(imported.key) << imported.problem;
  EXPECT_TRUE(internal::verify_signature(*imported.key, signing_input(compact), signature_of(compact)));
  std::string bad_sig = signature_of(compact);
  bad_sig[10] = static_cast<char>(bad_sig[10] ^ 1);
  EXPECT_FALSE(internal::verify_signature(*imported.key, signing_input(compact), bad_sig));

  // The relying-party policy refuses the key, and verify() refuses the token.
  const auto rp = KeySet::from_jwk_objects(std::vector<json>{jwk});
  EXPECT_EQ(rp.keys.size(), 0u);
  EXPECT_EQ(rp.skipped, 1u);
  EXPECT_EQ(verify(rp.keys, compact, testing::expectations()).reason, Reason::kAlgNotAllowed);
  EXPECT_EQ(verify_against_es256_key_with_kid(compact, kid), Reason::kAlgNotAllowed);
}

TEST(Rfc7520, Ps384Example4_2CoreVerifiesPublicApiRefuses) {
  check_outside_algorithm_set("4_2.rsa-pss_signature.json", "PS384", internal::Scheme::kPs384);
}

TEST(Rfc7520, Es512Example4_3CoreVerifiesPublicApiRefuses) {
  check_outside_algorithm_set("4_3.ecdsa_signature.json", "ES512", internal::Scheme::kEs512);
}

TEST(Rfc7520, HmacExample4_4Refused) {
  const json doc = load("4_4.hmac-sha2_integrity_protection.json");
  const std::string compact = doc["output"]["compact"];
  // The oct key is refused at import; the token's HS256 is never an allowed alg.
  EXPECT_EQ(KeySet::from_jwk_objects(std::vector<json>{doc["input"]["key"]}).skipped, 1u);
  EXPECT_EQ(verify(testing::all_keys(), compact, testing::expectations()).reason, Reason::kAlgNotAllowed);
  EXPECT_EQ(verify_against_es256_key_with_kid(compact, doc["input"]["key"]["kid"]), Reason::kAlgNotAllowed);
}

TEST(Rfc7520, DetachedContentExample4_5Refused) {
  const json doc = load("4_5.signature_with_detached_content.json");
  const std::string compact = doc["output"]["compact"];
  ASSERT_NE(compact.find(".."), std::string::npos);
  EXPECT_EQ(verify(testing::all_keys(), compact, testing::expectations()).reason, Reason::kMalformed);
}

TEST(Rfc7520, JsonSerialisationsRefused) {
  for (const char* file : {"4_1.rsa_v15_signature.json", "4_2.rsa-pss_signature.json",
                           "4_3.ecdsa_signature.json", "4_4.hmac-sha2_integrity_protection.json",
                           "4_5.signature_with_detached_content.json",
                           "4_6.protecting_specific_header_fields.json",
                           "4_7.protecting_content_only.json", "4_8.multiple_signatures.json"}) {
    const json doc = load(file);
    for (const char* form : {"json", "json_flat"}) {
      if (!doc["output"].contains(form)) continue;
      const VerifyResult r = verify(testing::all_keys(), doc["output"][form].dump(), testing::expectations());
      EXPECT_FALSE(r.valid) << file << " " << form;
      EXPECT_EQ(r.reason, Reason::kMalformed) << file << " " << form;
    }
  }
}

}  // namespace
}  // namespace signet::verify
