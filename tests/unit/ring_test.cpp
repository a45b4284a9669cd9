#include "firmware/ring/key_ring.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "firmware/issuance/issuer.h"
#include "firmware/jose/base64url.h"
#include "firmware/ring/rotation_job.h"
#include "tests/unit/fake_hsm.h"

namespace signet::ring {
namespace {

RingOptions es256() {
  RingOptions options;
  options.algorithm = jose::Alg::kES256;
  options.typs = {"JWT", "at+jwt"};
  options.replica = "r1";
  options.reserve_tokens = 5;
  return options;
}

LifecyclePolicy quick_policy() {
  LifecyclePolicy p;
  p.refresh_interval = 1;
  return p;
}

std::int64_t fixed_now() { return 1000; }

TEST(RingRecord, RoundTrips) {
  RingRecord record;
  record.serial = 7;
  record.keys.push_back({"00ff", "kid-1", "ES256", KeyState::kRetiring, 100, 101, 150});
  record.keys.push_back({"0a0b", "kid-2", "ES256", KeyState::kActive, 200, 150, 0});
  const std::string text = encode_record(record);
  EXPECT_EQ(text.substr(0, 21), "00000000000000000007 ");  // fixed width: the greater text is the newer
  const auto decoded = decode_record(text);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->serial, 7u);
  ASSERT_EQ(decoded->keys.size(), 2u);
  EXPECT_EQ(decoded->keys[0].state, KeyState::kRetiring);
  EXPECT_EQ(decoded->keys[0].retired_at, 150);
  EXPECT_EQ(decoded->active()->kid, "kid-2");
  EXPECT_EQ(decoded->next(), nullptr);
}

TEST(RingRecord, RefusesDamage) {
  EXPECT_FALSE(decode_record("").ok());
  EXPECT_FALSE(decode_record("00000000000000000001 {}").ok());
  EXPECT_FALSE(decode_record("1 {\"version\":2,\"keys\":[]}").ok());
  EXPECT_FALSE(decode_record(R"(00000000000000000001 {"version":2,"keys":[{"id":"a"}]})").ok());
  EXPECT_TRUE(decode_record(R"(00000000000000000001 {"version":2,"keys":[]})").ok());
}

TEST(UsageRecord, RoundTrips) {
  UsageRecord usage{3, "r1", {{"k1", {500, 20}}, {"k2", {600, 0}}}};
  const auto decoded = decode_usage(encode_usage(usage));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->replica, "r1");
  EXPECT_EQ(decoded->keys.at("k1").latest_exp, 500);
  EXPECT_EQ(decoded->keys.at("k1").tokens, 20u);
}

TEST(KeyRing, FirstStartCreatesOneActiveKeyAndRecordsIt) {
  testing::FakeHsm hsm;
  KeyRing ring(hsm, es256());
  RotationJob job(ring, quick_policy(), &fixed_now);
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const auto snap = ring.snapshot();
  ASSERT_NE(snap->active(), nullptr);
  EXPECT_EQ(snap->active()->entry.created_at, 1000);
  const auto record = decode_record(*hsm.read_data(kRecordLabel));
  ASSERT_TRUE(record.ok());
  ASSERT_NE(record->active(), nullptr);
  EXPECT_EQ(record->active()->kid, snap->active()->entry.kid);
  // The same tick generated the next key, published but not signing.
  ASSERT_NE(record->next(), nullptr);
  EXPECT_EQ(hsm.generated, 2);
}

TEST(KeyRing, RestartKeepsTheSameKeysAndJwks) {
  testing::FakeHsm hsm;
  std::shared_ptr<const Snapshot> first;
  {
    KeyRing ring(hsm, es256());
    RotationJob job(ring, quick_policy(), &fixed_now);
    ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
    first = ring.snapshot();
  }
  KeyRing ring(hsm, es256());
  RotationJob job(ring, quick_policy(), &fixed_now);
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  EXPECT_EQ(hsm.generated, 2);
  EXPECT_EQ(ring.snapshot()->active()->entry.kid, first->active()->entry.kid);
  EXPECT_EQ(ring.snapshot()->jwks_body, first->jwks_body);
  EXPECT_EQ(ring.snapshot()->etag, first->etag);
}

TEST(KeyRing, JwksAndHeadersComeFromTheActiveKey) {
  testing::FakeHsm hsm;
  KeyRing ring(hsm, es256());
  RotationJob job(ring, quick_policy(), &fixed_now);
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const auto snap = ring.snapshot();
  const auto jwks = nlohmann::json::parse(snap->jwks_body);
  ASSERT_EQ(jwks["keys"].size(), 2u);  // active and next
  EXPECT_EQ(snap->etag.front(), '"');
  const std::string* header = snap->header_for("at+jwt");
  ASSERT_NE(header, nullptr);
  const auto decoded = nlohmann::json::parse(*jose::base64url_decode(*header));
  EXPECT_EQ(decoded["kid"], snap->active()->entry.kid);
  EXPECT_EQ(decoded["typ"], "at+jwt");
  EXPECT_EQ(snap->header_for("id+jwt"), nullptr);
}

TEST(KeyRing, OrphanKeysAreDestroyedByTheLeaseHolder) {
  testing::FakeHsm hsm;
  // What a crash between generating a key and recording it leaves.
  const auto orphan = hsm.generate_key(hsm::SignScheme::kEcdsaP256Sha256, 0);
  KeyRing ring(hsm, es256());
  RotationJob job(ring, quick_policy(), &fixed_now);
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const auto keys = hsm.list_keys();
  for (const auto& k : *keys) EXPECT_NE(k.id, orphan->id);
  EXPECT_EQ(keys->size(), 2u);
}

TEST(KeyRing, ReservesBeforeSigningInBlocks) {
  testing::FakeHsm hsm;
  KeyRing ring(hsm, es256());
  RotationJob job(ring, quick_policy(), &fixed_now);
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const RingKey& key = *ring.snapshot()->active();
  ASSERT_TRUE(ring.reserve(key, 2000, 40).ok());
  auto usage = decode_usage(*hsm.read_data(ring.usage_label()));
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->keys.at(key.entry.kid).latest_exp, 2010);  // exp + a quarter of the ttl
  EXPECT_EQ(usage->keys.at(key.entry.kid).tokens, 6u);        // count + reserve_tokens
  // Within the reservation: no write (a failing token would show it).
  hsm.fail_write = true;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(ring.reserve(key, 2005, 40).ok());
  // Beyond it, the write must succeed or the token must not be signed.
  EXPECT_EQ(ring.reserve(key, 2005, 40).error().code, Code::kHsmUnavailable);
  EXPECT_EQ(ring.reserve(key, 5000, 40).error().code, Code::kHsmUnavailable);
}

TEST(Issuer, SignsClaimsWithTheActiveKey) {
  testing::FakeHsm hsm;
  KeyRing ring(hsm, es256());
  RotationJob job(ring, quick_policy(), &fixed_now);
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const issuance::Issuer issuer("https://signet.test", ring, hsm, nullptr, [] { return std::int64_t{5000}; },
                                issuance::SigningGate::Options{});
  const config::Profile profile{"access", config::Seconds(600), "api", "at+jwt"};
  issuance::Grant grant{&profile, "alice", "api", config::Seconds(600), nlohmann::ordered_json{{"roles", {"a"}}}};
  auto token = issuer.issue("webapp", grant);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->expires_at, 5600);
  EXPECT_EQ(token->kid, ring.snapshot()->active()->entry.kid);
  EXPECT_EQ(token->jti.size(), 22u);
  const auto dot1 = token->token.find('.');
  const auto dot2 = token->token.rfind('.');
  EXPECT_EQ(hsm.last_signed, token->token.substr(0, dot2));  // the HSM signed the JWS signing input
  EXPECT_EQ(token->token.substr(dot2 + 1), "Wg");
  const auto payload = nlohmann::ordered_json::parse(*jose::base64url_decode(token->token.substr(dot1 + 1, dot2 - dot1 - 1)));
  EXPECT_EQ(payload.dump(),
            R"({"iss":"https://signet.test","sub":"alice","aud":"api","iat":5000,"nbf":5000,"exp":5600,"jti":")" +
                token->jti + R"(","type":"access","roles":["a"]})");
  EXPECT_NE(issuer.issue("webapp", grant)->jti, token->jti);

  hsm.fail_sign = true;
  const auto failed = issuer.issue("webapp", grant);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Code::kHsmUnavailable);
}

}  // namespace
}  // namespace signet::ring
