// KeySet import policy (SECURITY.md §1a weak keys, §1b): RSA under 2048 bits (2040, 1024), small
// or even e, RSA without alg, curves and types outside the allowlist, oct and private keys, bad
// coordinates, duplicate kids; malformed entries skipped one by one with a count.
#include "firmware/jose/base64url.h"
#include "firmware/verify/verifier.h"
#include "tests/verify/software_key.h"

#include <gtest/gtest.h>

namespace signet::verify {
namespace {

using json = nlohmann::json;

KeySet::Import import_one(const json& jwk) { return KeySet::from_jwk_objects(std::vector<json>{jwk}); }

bool accepted(const json& jwk) { return import_one(jwk).keys.size() == 1; }

TEST(KeySetImport, ShortRsaKeysRefused) {
  for (int bits : {1024, 2040}) {
    const testing::SoftwareKey weak("RS256", "weak", bits);
    const auto imported = import_one(weak.public_jwk());
    EXPECT_EQ(imported.keys.size(), 0u) << bits;
    EXPECT_EQ(imported.skipped, 1u);
    ASSERT_EQ(imported.skipped_why.size(), 1u);
    EXPECT_NE(imported.skipped_why[0].find("2048"), std::string::npos) << imported.skipped_why[0];
  }
  EXPECT_TRUE(accepted(testing::rs256_key().public_jwk()));
}

TEST(KeySetImport, RsaExponentAndEncodingRules) {
  json jwk = testing::rs256_key().public_jwk();
  for (const char* e : {"Aw", "AQAA", "AQAB AQAB", "AAEAAQ", "", "AQABAQABAQABAQAB"}) {
    json k = jwk;
    k["e"] = e;
    EXPECT_FALSE(accepted(k)) << e;  // 3, 65536 (even), junk, leading zero, empty, > 64 bits
  }
  json leading_zero = jwk;
  leading_zero["n"] = testing::b64(std::string(1, '\0') + *jose::base64url_decode(jwk["n"].get<std::string>()));
  EXPECT_FALSE(accepted(leading_zero));
}

TEST(KeySetImport, AlgBindingRules) {
  json rsa = testing::rs256_key().public_jwk();
  rsa.erase("alg");
  EXPECT_FALSE(accepted(rsa));  // RS256 or PS256? Refused rather than guessed.
  for (const char* alg : {"RS384", "HS256", "ES256", "none", "rs256", "EdDSA"}) {
    rsa["alg"] = alg;
    EXPECT_FALSE(accepted(rsa)) << alg;
  }
  rsa["alg"] = "PS256";
  EXPECT_TRUE(accepted(rsa));
  EXPECT_EQ(import_one(rsa).keys.alg_of("rs-1"), "PS256");

  json ec = testing::es256_key().public_jwk();
  ec.erase("alg");
  EXPECT_EQ(import_one(ec).keys.alg_of("es-1"), "ES256");  // the curve decides
  ec["alg"] = "ES384";
  EXPECT_FALSE(accepted(ec));
  json ed = testing::eddsa_key().public_jwk();
  ed.erase("alg");
  EXPECT_EQ(import_one(ed).keys.alg_of("ed-1"), "EdDSA");
  ed["alg"] = "ES256";
  EXPECT_FALSE(accepted(ed));
}

TEST(KeySetImport, CurvesTypesAndCoordinates) {
  const json ec = testing::es256_key().public_jwk();
  for (const char* crv : {"P-384", "P-521", "secp256k1", "p-256"}) {
    json k = ec;
    k["crv"] = crv;
    EXPECT_FALSE(accepted(k)) << crv;
  }
  json short_x = ec;
  short_x["x"] = testing::b64(jose::base64url_decode(ec["x"].get<std::string>())->substr(1));
  EXPECT_FALSE(accepted(short_x));
  json off_curve = ec;
  std::string y = *jose::base64url_decode(ec["y"].get<std::string>());
  y[31] = static_cast<char>(y[31] ^ 1);
  off_curve["y"] = testing::b64(y);
  EXPECT_FALSE(accepted(off_curve));

  json ed = testing::eddsa_key().public_jwk();
  for (const char* crv : {"Ed448", "X25519"}) {
    json k = ed;
    k["crv"] = crv;
    EXPECT_FALSE(accepted(k)) << crv;
  }
  EXPECT_FALSE(accepted(json{{"kty", "oct"}, {"kid", "h"}, {"k", "c2VjcmV0"}, {"alg", "HS256"}}));
  EXPECT_FALSE(accepted(json{{"kty", "oct"}, {"kid", "h"}}));
  json priv = ec;
  priv["d"] = "AAAA";
  EXPECT_FALSE(accepted(priv));
  json unknown = ec;
  unknown["kty"] = "ec";
  EXPECT_FALSE(accepted(unknown));
}

TEST(KeySetImport, KidUseAndKeyOps) {
  json ec = testing::es256_key().public_jwk();
  json no_kid = ec;
  no_kid.erase("kid");
  EXPECT_FALSE(accepted(no_kid));
  json enc = ec;
  enc["use"] = "enc";
  EXPECT_FALSE(accepted(enc));
  json sign_only = ec;
  sign_only["key_ops"] = json::array({"sign"});
  EXPECT_FALSE(accepted(sign_only));
  json verify_ops = ec;
  verify_ops["key_ops"] = json::array({"verify"});
  EXPECT_TRUE(accepted(verify_ops));
}

TEST(KeySetImport, MalformedEntriesSkippedOneByOne) {
  const json jwks = {{"keys", json::array({testing::es256_key().public_jwk(), 5, "x", json::object(),
                                           json{{"kty", "RSA"}, {"kid", "bad"}}, testing::eddsa_key().public_jwk(),
                                           json{{"kty", "EC"}, {"crv", "P-256"}, {"kid", "junk"}, {"x", "!"}, {"y", "?"}}})}};
  const auto imported = KeySet::from_jwks_json(jwks.dump());
  EXPECT_TRUE(imported.ok);
  EXPECT_EQ(imported.keys.size(), 2u);
  EXPECT_EQ(imported.skipped, 5u);
  EXPECT_EQ(imported.skipped_why.size(), 5u);
  EXPECT_TRUE(imported.keys.contains("es-1"));
  EXPECT_TRUE(imported.keys.contains("ed-1"));
  EXPECT_EQ(imported.keys.kids(), (std::vector<std::string>{"ed-1", "es-1"}));
  for (const std::string& why : imported.skipped_why) {
    EXPECT_EQ(why.find(testing::es256_key().public_jwk()["x"].get<std::string>()), std::string::npos);
  }
}

TEST(KeySetImport, DuplicateKidNamesNoKey) {
  json other = testing::eddsa_key().public_jwk();
  other["kid"] = "es-1";
  const auto imported = KeySet::from_jwk_objects(std::vector<json>{testing::es256_key().public_jwk(), other,
                                                                   testing::rs256_key().public_jwk()});
  EXPECT_EQ(imported.keys.size(), 1u);
  EXPECT_EQ(imported.skipped, 2u);
  EXPECT_FALSE(imported.keys.contains("es-1"));
}

TEST(KeySetImport, DocumentLevelFailures) {
  for (const char* text : {"", "not json", "[]", "{}", R"({"keys":{}})", R"({"keys":[],"keys":[]})",
                           "\xef\xbb\xbf{\"keys\":[]}", R"({"keys":[]} x)"}) {
    const auto imported = KeySet::from_jwks_json(text);
    EXPECT_FALSE(imported.ok) << text;
    EXPECT_FALSE(imported.error.empty());
    EXPECT_EQ(imported.keys.size(), 0u);
  }
  const auto empty = KeySet::from_jwks_json(R"({"keys":[]})");
  EXPECT_TRUE(empty.ok);
  EXPECT_EQ(empty.keys.size(), 0u);
  // A bare array of JWK objects, already parsed, is accepted too.
  EXPECT_EQ(KeySet::from_jwks(json::array({testing::es256_key().public_jwk()})).keys.size(), 1u);
  // A default KeySet is empty: every token is an unknown kid.
  const auto& key = testing::es256_key();
  EXPECT_EQ(verify(KeySet(), key.token(key.header(), testing::good_claims()), testing::expectations()).reason,
            Reason::kUnknownKid);
}

}  // namespace
}  // namespace signet::verify
