#include "firmware/ring/key_ring.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "firmware/issuance/issuer.h"
#include "firmware/jose/base64url.h"
#include "firmware/ring/rotation_job.h"
#include "tests/unit/fake_hsm.h"
#include "tests/unit/manual_clock.h"

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

// Every ring here sees the wall clock stand at 1000 s; its waits (the lease's settle time) pass
// at once.
testing::ManualClock test_clock(1000);

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
  KeyRing ring(hsm, es256(), test_clock);
  RotationJob job(ring, quick_policy());
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

// A next key may sign publish_lead() after created_at: created_at is never earlier than the
// moment the record naming the key is durable, whatever part of its second the tick used.
TEST(KeyRing, NextKeyIsStampedNoEarlierThanItsRecordIsWritten) {
  testing::FakeHsm hsm;
  KeyRing ring(hsm, es256(), test_clock);
  RotationJob job(ring, quick_policy());
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const auto record = decode_record(*hsm.read_data(kRecordLabel));
  ASSERT_TRUE(record.ok() && record->next());
  EXPECT_EQ(record->next()->created_at, 1001) << "the second after the write started";
  EXPECT_EQ(record->active()->created_at, 1000);
}

TEST(KeyRing, NextKeyIsStampedAgainWhenItsRecordWriteOutlastsTheStamp) {
  testing::FakeHsm hsm;
  testing::ManualClock clock(1000);  // its own: this test moves the wall clock
  int record_writes = 0;
  hsm.on_write = [&](std::string_view label) {
    // The write naming the next key is slow.
    if (label == kRecordLabel && ++record_writes == 2) clock.advance(std::chrono::seconds(2));
  };
  KeyRing ring(hsm, es256(), clock);
  // A lease long enough to outlast the slow write (3 refresh intervals): each write checks it.
  LifecyclePolicy policy = quick_policy();
  policy.refresh_interval = 5;
  RotationJob job(ring, policy);
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const auto record = decode_record(*hsm.read_data(kRecordLabel));
  ASSERT_TRUE(record.ok() && record->next());
  EXPECT_EQ(record_writes, 3) << "written once more, with the later stamp";
  EXPECT_EQ(record->next()->created_at, 1003);
}

TEST(KeyRing, RestartKeepsTheSameKeysAndJwks) {
  testing::FakeHsm hsm;
  std::shared_ptr<const Snapshot> first;
  {
    KeyRing ring(hsm, es256(), test_clock);
    RotationJob job(ring, quick_policy());
    ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
    first = ring.snapshot();
  }
  KeyRing ring(hsm, es256(), test_clock);
  RotationJob job(ring, quick_policy());
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  EXPECT_EQ(hsm.generated, 2);
  EXPECT_EQ(ring.snapshot()->active()->entry.kid, first->active()->entry.kid);
  EXPECT_EQ(ring.snapshot()->jwks_body, first->jwks_body);
  EXPECT_EQ(ring.snapshot()->etag, first->etag);
}

TEST(KeyRing, JwksAndHeadersComeFromTheActiveKey) {
  testing::FakeHsm hsm;
  KeyRing ring(hsm, es256(), test_clock);
  RotationJob job(ring, quick_policy());
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

// Two whole ticks of the job's thread that began after anything the test did before this.
void tick_twice(RotationJob& job) {
  job.run_tick(std::chrono::seconds(10));
  job.run_tick(std::chrono::seconds(10));
}

bool token_holds(testing::FakeHsm& hsm, const std::string& id) {
  const auto keys = hsm.list_keys();
  if (!keys.ok()) return false;
  for (const auto& k : *keys) {
    if (k.id == id) return true;
  }
  return false;
}

std::vector<std::string> kids_of(const Snapshot& snap) {
  std::vector<std::string> kids;
  for (const auto& k : snap.keys) kids.push_back(k.entry.kid);
  return kids;
}

// A key pair no record names, beside a working ring: the record cannot say it never signed (only
// an intent could), so the lease holder adopts it, publishes it as retiring, and destroys nothing.
TEST(KeyRing, OrphanKeysAreAdoptedNotDestroyed) {
  testing::FakeHsm hsm;
  KeyRing ring(hsm, es256(), test_clock);
  RotationJob job(ring, quick_policy());
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const auto before = ring.snapshot();
  ASSERT_NE(before->active(), nullptr);
  const auto orphan = hsm.generate_key(hsm::SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(orphan.ok());
  const std::string orphan_kid = describe(*orphan).entry.kid;
  tick_twice(job);

  const auto after = ring.snapshot();
  const RingKey* adopted = after->find(orphan_kid);
  ASSERT_NE(adopted, nullptr) << after->jwks_body;
  EXPECT_EQ(adopted->entry.state, KeyState::kRetiring);
  EXPECT_TRUE(adopted->entry.adopted);
  EXPECT_TRUE(adopted->in_token);
  EXPECT_NE(after->jwks_body.find(orphan_kid), std::string::npos);
  // The active key did not change, and nothing left the token.
  ASSERT_NE(after->active(), nullptr);
  EXPECT_EQ(after->active()->entry.kid, before->active()->entry.kid);
  EXPECT_EQ(hsm.destroyed, 0);
  EXPECT_TRUE(token_holds(hsm, orphan->id));
  const auto record = decode_record(*hsm.read_data(kRecordLabel));
  ASSERT_TRUE(record.ok());
  ASSERT_NE(record->find(orphan_kid), nullptr);
  EXPECT_TRUE(record->find(orphan_kid)->adopted);
}

TEST(KeyRing, ReservesBeforeSigningInBlocks) {
  testing::FakeHsm hsm;
  KeyRing ring(hsm, es256(), test_clock);
  RotationJob job(ring, quick_policy());
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
  KeyRing ring(hsm, es256(), test_clock);
  RotationJob job(ring, quick_policy());
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const issuance::Issuer issuer("https://signet.test", ring, hsm, nullptr, [] { return std::int64_t{5000}; },
                                issuance::SigningGate::Options{});
  const config::Profile profile{"access", config::Seconds(600), "api", "at+jwt"};
  issuance::Grant grant{&profile, "alice", "api", config::Seconds(600), nlohmann::ordered_json{{"roles", {"a"}}}, std::nullopt};
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

// On a fresh token, a lone key pair without a record is what a lost record of a one-key ring
// looks like: it is taken back as the active key rather than replaced.
TEST(KeyRing, LoneOrphanOnAFreshTokenBecomesTheActiveKey) {
  testing::FakeHsm hsm;
  const auto orphan = hsm.generate_key(hsm::SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(orphan.ok());
  KeyRing ring(hsm, es256(), test_clock);
  RotationJob job(ring, quick_policy());
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const auto snap = ring.snapshot();
  ASSERT_NE(snap->active(), nullptr);
  EXPECT_EQ(snap->active()->entry.kid, describe(*orphan).entry.kid);
  EXPECT_TRUE(snap->active()->entry.adopted);
  EXPECT_EQ(hsm.destroyed, 0);
  EXPECT_TRUE(token_holds(hsm, orphan->id));
}

// An intent written before C_GenerateKeyPair proves a key never signed: only such a key is
// destroyed, and the intent goes with it.
TEST(KeyRing, InterruptedGenerationWithIntentIsDestroyed) {
  testing::FakeHsm hsm;
  KeyRing ring(hsm, es256(), test_clock);
  RotationJob job(ring, quick_policy());
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const auto before = ring.snapshot();
  const std::string id = "interrupted-key1";  // 16 bytes
  const std::string intent = "signet:intent:" + hex::encode(id);  // repair.h, kIntentLabelPrefix
  ASSERT_TRUE(hsm.write_data(intent, "1000").ok());
  const auto interrupted = hsm.generate_key(hsm::SignScheme::kEcdsaP256Sha256, 0, id);
  ASSERT_TRUE(interrupted.ok());
  tick_twice(job);

  EXPECT_FALSE(token_holds(hsm, id));
  EXPECT_EQ(hsm.destroyed, 1);
  EXPECT_EQ(hsm.read_data(intent).error().code, Code::kNotFound);
  const auto after = ring.snapshot();
  EXPECT_EQ(after->find(describe(*interrupted).entry.kid), nullptr);
  EXPECT_EQ(after->jwks_body, before->jwks_body);
}

// The ring record erased (by hand, or a token that lost the object): the token's keys are all
// adopted, and the usage reservations say which one was signing, so it stays active.
TEST(KeyRing, LostRecordKeepsEveryKeyAndTheActiveKid) {
  testing::FakeHsm hsm;
  KeyRing ring(hsm, es256(), test_clock);
  RotationJob job(ring, quick_policy());
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const auto before = ring.snapshot();
  ASSERT_NE(before->active(), nullptr);
  ASSERT_EQ(before->keys.size(), 2u);  // active and next
  ASSERT_TRUE(ring.reserve(*before->active(), 2000, 40).ok());
  ASSERT_TRUE(hsm.destroy_data(kRecordLabel).ok());
  tick_twice(job);

  const auto after = ring.snapshot();
  ASSERT_NE(after->active(), nullptr) << after->jwks_body;
  EXPECT_EQ(after->active()->entry.kid, before->active()->entry.kid);
  for (const auto& kid : kids_of(*before)) {
    EXPECT_NE(after->find(kid), nullptr) << kid;
    EXPECT_NE(after->jwks_body.find(kid), std::string::npos) << kid;
  }
  EXPECT_EQ(hsm.destroyed, 0);
  const auto record = decode_record(*hsm.read_data(kRecordLabel));
  ASSERT_TRUE(record.ok()) << "the lease holder writes the repaired record";
  for (const auto& kid : kids_of(*before)) {
    ASSERT_NE(record->find(kid), nullptr) << kid;
    EXPECT_TRUE(record->find(kid)->adopted) << kid;
  }
  ASSERT_NE(record->active(), nullptr);
  EXPECT_EQ(record->active()->kid, before->active()->entry.kid);
}

// A record that does not decode is kept for the operator and never read as an empty ring.
TEST(KeyRing, DamagedRecordAdoptsTheKeysAndKeepsACopy) {
  testing::FakeHsm hsm;
  KeyRing ring(hsm, es256(), test_clock);
  RotationJob job(ring, quick_policy());
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const auto before = ring.snapshot();
  ASSERT_NE(before->active(), nullptr);
  ASSERT_TRUE(ring.reserve(*before->active(), 2000, 40).ok());
  const std::string garbage = "\x01\x02 not a ring record {";
  ASSERT_TRUE(hsm.write_data(kRecordLabel, garbage).ok());
  tick_twice(job);

  const auto kept = hsm.read_data("signet:ring:damaged");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, garbage);
  const auto after = ring.snapshot();
  for (const auto& kid : kids_of(*before)) {
    const RingKey* key = after->find(kid);
    ASSERT_NE(key, nullptr) << kid;
    EXPECT_TRUE(key->entry.adopted) << kid;
    EXPECT_NE(after->jwks_body.find(kid), std::string::npos) << kid;
  }
  ASSERT_NE(after->active(), nullptr);
  EXPECT_EQ(after->active()->entry.kid, before->active()->entry.kid);
  EXPECT_EQ(hsm.destroyed, 0);
  const auto record = decode_record(*hsm.read_data(kRecordLabel));
  ASSERT_TRUE(record.ok()) << "the damaged record is replaced by a repaired one";
}

// A token that cannot be read (a lost login): not seen is not gone. The published ring stays
// byte for byte, and nothing is destroyed or made.
TEST(KeyRing, UnreadableTokenLeavesTheSnapshotAndDestroysNothing) {
  testing::FakeHsm hsm;
  KeyRing ring(hsm, es256(), test_clock);
  RotationJob job(ring, quick_policy());
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const auto before = ring.snapshot();
  ASSERT_NE(before->active(), nullptr);
  const std::uint64_t failed_before = job.failed_ticks();
  const int generated_before = hsm.generated;

  hsm.fail_read = true;
  tick_twice(job);
  EXPECT_GE(job.failed_ticks(), failed_before + 2) << "the ticks did run, and failed";
  const auto during = ring.snapshot();
  EXPECT_EQ(during->jwks_body, before->jwks_body);
  EXPECT_EQ(during->etag, before->etag);
  ASSERT_NE(during->active(), nullptr);
  EXPECT_EQ(during->active()->entry.kid, before->active()->entry.kid);
  EXPECT_EQ(hsm.destroyed, 0);
  EXPECT_EQ(hsm.generated, generated_before);

  // Readable again: the same ring, nothing adopted or retired.
  hsm.fail_read = false;
  tick_twice(job);
  const auto after = ring.snapshot();
  EXPECT_EQ(after->jwks_body, before->jwks_body);
  EXPECT_EQ(after->active()->entry.kid, before->active()->entry.kid);
  EXPECT_EQ(hsm.destroyed, 0);
  EXPECT_EQ(hsm.generated, generated_before);
}

// A recorded key that vanished from the token can no longer sign: it retires, the next key takes
// over, and it stays in the JWKS (from the record's JWK) so that its tokens still verify.
TEST(KeyRing, KeyLostFromTheTokenStaysPublishedAndLeavesTheActiveState) {
  testing::FakeHsm hsm;
  // Ed25519: FakeHsm's random EC coordinates are not a point on P-256, so the verifier would
  // (rightly) refuse to publish them from the record; any 32 bytes are an Ed25519 public key.
  RingOptions options = es256();
  options.algorithm = jose::Alg::kEdDSA;
  KeyRing ring(hsm, options, test_clock);
  RotationJob job(ring, quick_policy());
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const auto before = ring.snapshot();
  ASSERT_NE(before->active(), nullptr);
  const std::string lost_kid = before->active()->entry.kid;
  hsm.lose_key(before->active()->ref.id);
  tick_twice(job);

  const auto after = ring.snapshot();
  const RingKey* lost = after->find(lost_kid);
  ASSERT_NE(lost, nullptr) << after->jwks_body;
  EXPECT_EQ(lost->entry.state, KeyState::kRetiring);
  EXPECT_FALSE(lost->in_token);
  EXPECT_NE(after->jwks_body.find(lost_kid), std::string::npos);
  ASSERT_NE(after->active(), nullptr);
  EXPECT_NE(after->active()->entry.kid, lost_kid);
  EXPECT_TRUE(after->active()->in_token);
  EXPECT_EQ(hsm.destroyed, 0);
  // Its JWK in the JWKS is the one published before.
  EXPECT_EQ(lost->jwk_json, before->active()->jwk_json);
}

// Another replica that only refreshes (it does not hold the lease) must show what the lease
// holder repaired: the repaired record's serial must not make it look unchanged.
TEST(KeyRing, ReplicaSeesTheRingRepairedAfterALostRecord) {
  testing::FakeHsm hsm;
  KeyRing ring(hsm, es256(), test_clock);
  RotationJob job(ring, quick_policy());
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  RingOptions other = es256();
  other.replica = "r2";
  KeyRing replica(hsm, other, test_clock);
  ASSERT_TRUE(replica.refresh().ok());
  const auto before = replica.snapshot();
  ASSERT_NE(before->active(), nullptr);
  ASSERT_TRUE(ring.reserve(*ring.snapshot()->active(), 2000, 40).ok());

  ASSERT_TRUE(hsm.destroy_data(kRecordLabel).ok());
  tick_twice(job);  // the lease holder adopts the keys, and makes a new next key
  const auto record = decode_record(*hsm.read_data(kRecordLabel));
  ASSERT_TRUE(record.ok());
  ASSERT_NE(record->next(), nullptr);

  ASSERT_TRUE(replica.refresh().ok());
  const auto seen = replica.snapshot();
  EXPECT_NE(seen->find(record->next()->kid), nullptr)
      << "the replica does not publish the new next key; record serial " << record->serial
      << ", replica shows serial " << seen->serial;
  EXPECT_EQ(seen->jwks_body, ring.snapshot()->jwks_body);
}

// A replica that reads the token while the record is missing (before the lease holder has
// repaired it) must not publish an empty JWKS: relying parties cache it for jwks.max_age and
// would refuse every token meanwhile. A damaged record leaves the snapshot as it was; so must an
// absent one that was there before.
TEST(KeyRing, ReplicaKeepsItsKeysWhileTheRecordIsMissing) {
  testing::FakeHsm hsm;
  {
    KeyRing ring(hsm, es256(), test_clock);
    RotationJob job(ring, quick_policy());
    ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  }
  RingOptions other = es256();
  other.replica = "r2";
  KeyRing replica(hsm, other, test_clock);
  ASSERT_TRUE(replica.refresh().ok());
  const auto before = replica.snapshot();
  ASSERT_NE(before->active(), nullptr);

  ASSERT_TRUE(hsm.destroy_data(kRecordLabel).ok());
  ASSERT_TRUE(replica.refresh().ok());
  const auto during = replica.snapshot();
  EXPECT_EQ(during->jwks_body, before->jwks_body);
  EXPECT_NE(during->active(), nullptr);
}

}  // namespace
}  // namespace signet::ring
