#include "firmware/ring/key_ring.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "firmware/issuance/issuer.h"
#include "firmware/jose/base64url.h"
#include "tests/unit/fake_hsm.h"

namespace signet::ring {
namespace {

RingOptions es256() {
  RingOptions options;
  options.algorithm = jose::Alg::kES256;
  options.typs = {"JWT", "at+jwt"};
  return options;
}

TEST(RingRecord, RoundTrips) {
  RingRecord record;
  record.serial = 7;
  record.keys.push_back({"00ff", "kid-1", "ES256", KeyState::kActive, 100, 101});
  record.keys.push_back({"0a0b", "kid-2", "ES256", KeyState::kNext, 200, 0});
  const auto decoded = decode_record(encode_record(record));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->serial, 7u);
  ASSERT_EQ(decoded->keys.size(), 2u);
  EXPECT_EQ(decoded->keys[0].kid, "kid-1");
  EXPECT_EQ(decoded->keys[0].state, KeyState::kActive);
  EXPECT_EQ(decoded->keys[1].state, KeyState::kNext);
  EXPECT_EQ(decoded->keys[0].activated_at, 101);
}

TEST(RingRecord, RefusesDamage) {
  EXPECT_FALSE(decode_record("").ok());
  EXPECT_FALSE(decode_record(R"({"version":2,"serial":1,"keys":[]})").ok());
  EXPECT_FALSE(decode_record(R"({"version":1,"serial":1,"keys":[{"id":"a"}]})").ok());
  EXPECT_FALSE(decode_record(
                   R"({"version":1,"serial":1,"keys":[{"id":"a","kid":"k","alg":"ES256","state":"gone","created_at":1,"activated_at":1}]})")
                   .ok());
}

TEST(KeyRing, FirstStartCreatesOneActiveKeyAndRecordsIt) {
  testing::FakeHsm hsm;
  auto ring = KeyRing::open(hsm, es256(), 1000);
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  const auto snap = (*ring)->snapshot();
  ASSERT_EQ(snap->keys.size(), 1u);
  EXPECT_EQ(snap->active().entry.state, KeyState::kActive);
  EXPECT_EQ(snap->active().entry.created_at, 1000);
  EXPECT_EQ(hsm.generated, 1);
  const auto record = decode_record(*hsm.read_data(kRecordLabel));
  ASSERT_TRUE(record.ok());
  ASSERT_EQ(record->keys.size(), 1u);
  EXPECT_EQ(record->keys[0].kid, snap->active().entry.kid);
}

TEST(KeyRing, RestartKeepsTheSameKeyAndJwks) {
  testing::FakeHsm hsm;
  auto first = KeyRing::open(hsm, es256(), 1000);
  auto second = KeyRing::open(hsm, es256(), 2000);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(hsm.generated, 1);
  EXPECT_EQ((*second)->snapshot()->active().entry.kid, (*first)->snapshot()->active().entry.kid);
  EXPECT_EQ((*second)->snapshot()->jwks_body, (*first)->snapshot()->jwks_body);
  EXPECT_EQ((*second)->snapshot()->etag, (*first)->snapshot()->etag);
}

TEST(KeyRing, JwksAndHeadersComeFromTheActiveKey) {
  testing::FakeHsm hsm;
  auto ring = KeyRing::open(hsm, es256(), 1000);
  const auto snap = (*ring)->snapshot();
  const auto jwks = nlohmann::json::parse(snap->jwks_body);
  ASSERT_EQ(jwks["keys"].size(), 1u);
  EXPECT_EQ(jwks["keys"][0]["kid"], snap->active().entry.kid);
  EXPECT_EQ(jwks["keys"][0]["alg"], "ES256");
  EXPECT_EQ(snap->etag.front(), '"');
  EXPECT_EQ(snap->etag.back(), '"');
  const std::string* header = snap->header_for("at+jwt");
  ASSERT_NE(header, nullptr);
  const auto decoded = nlohmann::json::parse(*jose::base64url_decode(*header));
  EXPECT_EQ(decoded["kid"], snap->active().entry.kid);
  EXPECT_EQ(decoded["typ"], "at+jwt");
  EXPECT_EQ(snap->header_for("id+jwt"), nullptr);
}

TEST(KeyRing, AdoptsAnUnrecordedKeyInsteadOfMakingAnother) {
  testing::FakeHsm hsm;
  // What a crash between generating the key and writing the record leaves.
  const auto orphan = hsm.generate_key(hsm::SignScheme::kEcdsaP256Sha256, 0);
  auto ring = KeyRing::open(hsm, es256(), 1000);
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(hsm.generated, 1);
  EXPECT_EQ((*ring)->snapshot()->active().ref.handle, orphan->ref.handle);
}

TEST(KeyRing, RefusesAnAlgorithmChangeItCannotServe) {
  testing::FakeHsm hsm;
  ASSERT_TRUE(KeyRing::open(hsm, es256(), 1000).ok());
  RingOptions rs256 = es256();
  rs256.algorithm = jose::Alg::kRS256;
  const auto ring = KeyRing::open(hsm, rs256, 2000);
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.error().code, Code::kConfig);
}

TEST(KeyRing, HsmFailuresAtStartAreReported) {
  testing::FakeHsm hsm;
  hsm.fail_generate = true;
  const auto ring = KeyRing::open(hsm, es256(), 1000);
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.error().code, Code::kHsmUnavailable);
}

TEST(Issuer, SignsClaimsWithTheActiveKey) {
  testing::FakeHsm hsm;
  auto ring = KeyRing::open(hsm, es256(), 1000);
  const issuance::Issuer issuer("https://signet.test", **ring, hsm, [] { return std::int64_t{5000}; });
  const config::Profile profile{"access", config::Seconds(600), "api", "at+jwt"};
  issuance::Grant grant{&profile, "alice", "api", config::Seconds(600), nlohmann::ordered_json{{"roles", {"a"}}}};
  auto token = issuer.issue(grant);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->expires_at, 5600);
  EXPECT_EQ(token->jti.size(), 22u);
  const auto dot1 = token->token.find('.');
  const auto dot2 = token->token.rfind('.');
  EXPECT_EQ(hsm.last_signed, token->token.substr(0, dot2));  // the HSM signed the JWS signing input
  EXPECT_EQ(token->token.substr(dot2 + 1), "Wg");
  const auto payload = nlohmann::ordered_json::parse(*jose::base64url_decode(token->token.substr(dot1 + 1, dot2 - dot1 - 1)));
  EXPECT_EQ(payload.dump(),
            R"({"iss":"https://signet.test","sub":"alice","aud":"api","iat":5000,"nbf":5000,"exp":5600,"jti":")" +
                token->jti + R"(","type":"access","roles":["a"]})");
  EXPECT_NE(issuer.issue(grant)->jti, token->jti);

  hsm.fail_sign = true;
  const auto failed = issuer.issue(grant);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Code::kHsmUnavailable);
}

}  // namespace
}  // namespace signet::ring
