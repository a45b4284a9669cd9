// plan_repair (firmware/ring/repair.h) as a pure decision: what the lease holder does to a ring
// record that disagrees with a complete view of the token. Never destroy on doubt: a key is
// destroyed only when an intent proves it an interrupted generation; everything else the token
// holds is adopted and kept published; a recorded key the token lacks stays published from its
// JWK. And the lifecycle's promise for adopted keys: kept at least a token lifetime.
#include "firmware/ring/repair.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace signet::ring {
namespace {

constexpr std::int64_t kNow = 5000;

std::string jwk_of(const std::string& kid) { return R"({"kty":"OKP","kid":")" + kid + R"("})"; }

TokenKey token_key(const std::string& id_hex, const std::string& kid) {
  return TokenKey{id_hex, kid, "ES256", jwk_of(kid)};
}

RecordEntry entry(const std::string& id_hex, const std::string& kid, KeyState state, std::int64_t created_at = 100,
                  std::int64_t activated_at = 0, std::int64_t retired_at = 0) {
  RecordEntry e{id_hex, kid, "ES256", state, created_at, activated_at, retired_at};
  e.jwk = jwk_of(kid);
  return e;
}

// A consistent ring: retiring "old", active "cur", next "nxt", all in the token.
RingRecord consistent_record() {
  RingRecord record;
  record.serial = 9;
  record.keys.push_back(entry("01", "old", KeyState::kRetiring, 100, 200, 1000));
  record.keys.push_back(entry("02", "cur", KeyState::kActive, 900, 1000));
  record.keys.push_back(entry("03", "nxt", KeyState::kNext, 2000));
  return record;
}

std::vector<TokenKey> consistent_token() {
  return {token_key("01", "old"), token_key("02", "cur"), token_key("03", "nxt")};
}

const RecordEntry* by_kid(const RingRecord& record, const std::string& kid) { return record.find(kid); }

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

TEST(Repair, NothingChangesOnAConsistentRing) {
  const RingRecord before = consistent_record();
  const RepairPlan plan = plan_repair(before, consistent_token(), {}, {}, kNow);
  EXPECT_FALSE(plan.changed);
  EXPECT_TRUE(plan.destroy.empty());
  EXPECT_TRUE(plan.clear_intents.empty());
  EXPECT_TRUE(plan.adopted.empty());
  EXPECT_TRUE(plan.lost.empty());
  EXPECT_TRUE(plan.reactivated.empty());
  EXPECT_EQ(encode_record(plan.record), encode_record(before));  // not a byte of it moved
}

TEST(Repair, RecordedActiveKeyTheTokenLacksRetiresAndStaysWithItsJwk) {
  std::vector<TokenKey> token = {token_key("01", "old"), token_key("03", "nxt")};  // "cur" is gone
  const RepairPlan plan = plan_repair(consistent_record(), token, {}, {}, kNow);
  EXPECT_TRUE(plan.changed);
  ASSERT_EQ(plan.lost, std::vector<std::string>{"cur"});
  const RecordEntry* cur = by_kid(plan.record, "cur");
  ASSERT_NE(cur, nullptr) << "a lost key must stay published until its tokens expire";
  EXPECT_EQ(cur->state, KeyState::kRetiring);
  EXPECT_EQ(cur->retired_at, kNow);
  EXPECT_EQ(cur->jwk, jwk_of("cur"));
  EXPECT_FALSE(cur->adopted);
  // Nothing in the token is touched for it, and nobody else changes state.
  EXPECT_TRUE(plan.destroy.empty());
  EXPECT_EQ(by_kid(plan.record, "nxt")->state, KeyState::kNext);
  EXPECT_EQ(by_kid(plan.record, "old")->state, KeyState::kRetiring);
  EXPECT_EQ(by_kid(plan.record, "old")->retired_at, 1000);
  EXPECT_EQ(plan.record.keys.size(), 3u);
  EXPECT_TRUE(plan.reactivated.empty());  // the next key is there to take over
}

TEST(Repair, LostNextKeyRetiresTooButARetiringOneIsNotListedTwice) {
  std::vector<TokenKey> token = {token_key("02", "cur")};  // "old" and "nxt" are gone
  const RepairPlan plan = plan_repair(consistent_record(), token, {}, {}, kNow);
  EXPECT_EQ(plan.lost, std::vector<std::string>{"nxt"});
  EXPECT_EQ(by_kid(plan.record, "nxt")->state, KeyState::kRetiring);
  EXPECT_EQ(by_kid(plan.record, "old")->retired_at, 1000);  // already retiring: its clock stays
  EXPECT_EQ(by_kid(plan.record, "cur")->state, KeyState::kActive);
}

TEST(Repair, RecordedKeyWithoutJwkThatTheTokenLacksIsDropped) {
  RingRecord record = consistent_record();
  record.keys[0].jwk.clear();  // "old", from a record of an older version
  std::vector<TokenKey> token = {token_key("02", "cur"), token_key("03", "nxt")};
  const RepairPlan plan = plan_repair(record, token, {}, {}, kNow);
  EXPECT_TRUE(plan.changed);
  EXPECT_EQ(by_kid(plan.record, "old"), nullptr) << "nothing to publish it by";
  EXPECT_EQ(plan.record.keys.size(), 2u);
  EXPECT_FALSE(contains(plan.lost, "old"));
  EXPECT_TRUE(plan.destroy.empty());
}

TEST(Repair, OrphanWithoutIntentIsAdoptedAsRetiring) {
  std::vector<TokenKey> token = consistent_token();
  token.push_back(token_key("0f", "orphan"));
  const RepairPlan plan = plan_repair(consistent_record(), token, {}, {}, kNow);
  EXPECT_TRUE(plan.changed);
  EXPECT_TRUE(plan.destroy.empty()) << "no intent proves it never signed";
  EXPECT_EQ(plan.adopted, std::vector<std::string>{"orphan"});
  const RecordEntry* orphan = by_kid(plan.record, "orphan");
  ASSERT_NE(orphan, nullptr);
  EXPECT_TRUE(orphan->adopted);
  EXPECT_EQ(orphan->state, KeyState::kRetiring);
  EXPECT_EQ(orphan->retired_at, kNow);
  EXPECT_EQ(orphan->id_hex, "0f");
  EXPECT_EQ(orphan->alg, "ES256");
  EXPECT_EQ(orphan->jwk, jwk_of("orphan"));
  // The ring had an active key: it keeps it.
  EXPECT_TRUE(plan.reactivated.empty());
  EXPECT_EQ(plan.record.active()->kid, "cur");
}

TEST(Repair, OrphanWithIntentIsDestroyedAndNeverAdopted) {
  std::vector<TokenKey> token = consistent_token();
  token.push_back(token_key("0f", "interrupted"));
  const RepairPlan plan = plan_repair(consistent_record(), token, {"0f"}, {}, kNow);
  EXPECT_EQ(plan.destroy, std::vector<std::string>{"0f"});
  EXPECT_TRUE(plan.adopted.empty());
  EXPECT_EQ(by_kid(plan.record, "interrupted"), nullptr);
  EXPECT_EQ(plan.record.keys.size(), 3u);
  EXPECT_EQ(plan.clear_intents, std::vector<std::string>{"0f"});
}

// A crash between the record write that decided a destruction (or a revocation) and
// C_DestroyObject: the record lists the pair as destroying. Adopting it would publish it anew.
TEST(Repair, PairTheRecordListsAsDestroyingIsDestroyedNeverAdopted) {
  RingRecord record = consistent_record();
  record.destroying = {"0d"};
  std::vector<TokenKey> token = consistent_token();
  token.push_back(token_key("0d", "doomed"));
  const RepairPlan plan = plan_repair(record, token, {}, {}, kNow);
  EXPECT_EQ(plan.finish_destroy, std::vector<std::string>{"0d"});
  EXPECT_TRUE(plan.destroy.empty());
  EXPECT_TRUE(plan.adopted.empty());
  EXPECT_EQ(by_kid(plan.record, "doomed"), nullptr);
  EXPECT_EQ(plan.record.destroying, std::vector<std::string>{"0d"}) << "kept until the token no longer holds it";
  EXPECT_FALSE(plan.changed);
}

TEST(Repair, DestroyingIdIsForgottenOnceTheTokenLacksItWithoutAWriteOfItsOwn) {
  RingRecord record = consistent_record();
  record.destroying = {"0d", "0e"};
  std::vector<TokenKey> token = consistent_token();
  token.push_back(token_key("0e", "still-there"));
  const RepairPlan plan = plan_repair(record, token, {}, {}, kNow);
  EXPECT_EQ(plan.record.destroying, std::vector<std::string>{"0e"});
  EXPECT_EQ(plan.finish_destroy, std::vector<std::string>{"0e"});
  EXPECT_FALSE(plan.changed) << "the id is inert: it goes with the record's next write";
}

TEST(Repair, DestroyingNeverTouchesAKeyTheRecordStillNames) {
  RingRecord record = consistent_record();
  record.destroying = {"02"};  // "cur", active: never written by Signet
  const RepairPlan plan = plan_repair(record, consistent_token(), {}, {}, kNow);
  EXPECT_TRUE(plan.finish_destroy.empty());
  EXPECT_TRUE(plan.record.destroying.empty());
  ASSERT_NE(plan.record.active(), nullptr);
  EXPECT_EQ(plan.record.active()->kid, "cur");
}

TEST(Repair, DestroyingSurvivesARoundTripThroughTheRecord) {
  RingRecord record = consistent_record();
  record.destroying = {"0d", "0e"};
  const auto decoded = decode_record(encode_record(record));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->destroying, record.destroying);
  EXPECT_EQ(encode_record(consistent_record()).find("destroying"), std::string::npos) << "written only when set";
}

TEST(Repair, IntentOfARecordedKeyNeverDestroysIt) {
  // A crash after the record named the new key but before its intent was cleared.
  const RepairPlan plan = plan_repair(consistent_record(), consistent_token(), {"03"}, {}, kNow);
  EXPECT_TRUE(plan.destroy.empty());
  EXPECT_EQ(by_kid(plan.record, "nxt")->state, KeyState::kNext);
  EXPECT_EQ(plan.clear_intents, std::vector<std::string>{"03"});
}

TEST(Repair, EveryIntentIsCleared) {
  std::vector<TokenKey> token = consistent_token();
  token.push_back(token_key("0e", "interrupted"));
  // "0e": an interrupted generation; "03": a recorded key; "0d": a generation that never made a key.
  const RepairPlan plan = plan_repair(consistent_record(), token, {"0e", "03", "0d"}, {}, kNow);
  std::vector<std::string> cleared = plan.clear_intents;
  std::sort(cleared.begin(), cleared.end());
  EXPECT_EQ(cleared, (std::vector<std::string>{"03", "0d", "0e"}));
  EXPECT_EQ(plan.destroy, std::vector<std::string>{"0e"});
}

TEST(Repair, LostRecordReactivatesTheAdoptedKeyWithTheLatestReservation) {
  std::vector<TokenKey> token = {token_key("01", "a"), token_key("02", "b"), token_key("03", "c")};
  const UsageTotals usage{{"a", {3000, 10}}, {"b", {4500, 3}}, {"c", {4000, 99}}};
  const RepairPlan plan = plan_repair(RingRecord{}, token, {}, usage, kNow);
  EXPECT_TRUE(plan.changed);
  EXPECT_EQ(plan.adopted.size(), 3u);
  EXPECT_EQ(plan.reactivated, "b");  // the greatest latest_exp, not the greatest count
  ASSERT_NE(plan.record.active(), nullptr);
  EXPECT_EQ(plan.record.active()->kid, "b");
  EXPECT_EQ(plan.record.active()->activated_at, kNow);
  EXPECT_EQ(plan.record.active()->retired_at, 0);
  EXPECT_EQ(by_kid(plan.record, "a")->state, KeyState::kRetiring);
  EXPECT_EQ(by_kid(plan.record, "c")->state, KeyState::kRetiring);
  EXPECT_EQ(plan.record.keys.size(), 3u);
  EXPECT_TRUE(plan.destroy.empty());
}

TEST(Repair, LostRecordWithOneKeyAndNoUsageReactivatesIt) {
  const RepairPlan plan = plan_repair(RingRecord{}, {token_key("01", "only")}, {}, {}, kNow);
  EXPECT_EQ(plan.adopted, std::vector<std::string>{"only"});
  EXPECT_EQ(plan.reactivated, "only");
  ASSERT_EQ(plan.record.keys.size(), 1u);
  EXPECT_EQ(plan.record.keys[0].state, KeyState::kActive);
  EXPECT_TRUE(plan.record.keys[0].adopted);
}

TEST(Repair, LostRecordWithTwoKeysAndNoUsageReactivatesNobody) {
  const RepairPlan plan = plan_repair(RingRecord{}, {token_key("01", "a"), token_key("02", "b")}, {}, {}, kNow);
  EXPECT_EQ(plan.adopted.size(), 2u);
  EXPECT_TRUE(plan.reactivated.empty()) << "no evidence which one was signing";
  EXPECT_EQ(plan.record.active(), nullptr);
  for (const auto& e : plan.record.keys) {
    EXPECT_EQ(e.state, KeyState::kRetiring) << e.kid;
    EXPECT_TRUE(e.adopted) << e.kid;
  }
}

TEST(Repair, UsageOfAKidTheTokenDoesNotHoldIsNoEvidence) {
  // Reservations for a key long destroyed must not leave the ring without an active key
  // choice, nor make a key out of nothing.
  const UsageTotals usage{{"gone", {9000, 1}}};
  const RepairPlan plan = plan_repair(RingRecord{}, {token_key("01", "a"), token_key("02", "b")}, {}, usage, kNow);
  EXPECT_TRUE(plan.reactivated.empty());
  EXPECT_EQ(plan.record.keys.size(), 2u);
}

TEST(Repair, ARingWithAnActiveKeyNeverReactivatesAnAdoptedOne) {
  std::vector<TokenKey> token = consistent_token();
  token.push_back(token_key("0f", "orphan"));
  const UsageTotals usage{{"orphan", {9000, 1}}};  // even with a late reservation
  const RepairPlan plan = plan_repair(consistent_record(), token, {}, usage, kNow);
  EXPECT_TRUE(plan.reactivated.empty());
  EXPECT_EQ(plan.record.active()->kid, "cur");
  EXPECT_EQ(by_kid(plan.record, "orphan")->state, KeyState::kRetiring);
}

TEST(Repair, TwoActiveKeysKeepTheNewer) {
  for (bool newer_first : {false, true}) {
    RingRecord record;
    RecordEntry older = entry("01", "older", KeyState::kActive, 100, 200);
    RecordEntry newer = entry("02", "newer", KeyState::kActive, 300, 400);
    if (newer_first) {
      record.keys = {newer, older};
    } else {
      record.keys = {older, newer};
    }
    const RepairPlan plan = plan_repair(record, {token_key("01", "older"), token_key("02", "newer")}, {}, {}, kNow);
    EXPECT_TRUE(plan.changed);
    ASSERT_NE(plan.record.active(), nullptr);
    EXPECT_EQ(plan.record.active()->kid, "newer") << "newer_first=" << newer_first;
    EXPECT_EQ(by_kid(plan.record, "older")->state, KeyState::kRetiring);
    EXPECT_EQ(by_kid(plan.record, "older")->retired_at, kNow);
    EXPECT_EQ(plan.record.keys.size(), 2u);
    EXPECT_TRUE(plan.destroy.empty());
  }
}

TEST(Repair, ThreeActiveKeysLeaveExactlyOne) {
  RingRecord record;
  record.keys = {entry("01", "a", KeyState::kActive, 1, 300), entry("02", "b", KeyState::kActive, 1, 500),
                 entry("03", "c", KeyState::kActive, 1, 400)};
  const RepairPlan plan = plan_repair(record, {token_key("01", "a"), token_key("02", "b"), token_key("03", "c")}, {},
                                      {}, kNow);
  const auto active = std::count_if(plan.record.keys.begin(), plan.record.keys.end(),
                                    [](const RecordEntry& e) { return e.state == KeyState::kActive; });
  EXPECT_EQ(active, 1);
  EXPECT_EQ(plan.record.active()->kid, "b");
}

TEST(Repair, OlderEntryWithoutJwkGetsItFromTheToken) {
  RingRecord record = consistent_record();
  record.keys[1].jwk.clear();  // "cur", written by an older version
  const RepairPlan plan = plan_repair(record, consistent_token(), {}, {}, kNow);
  EXPECT_TRUE(plan.changed);
  EXPECT_EQ(by_kid(plan.record, "cur")->jwk, jwk_of("cur"));
  EXPECT_EQ(by_kid(plan.record, "cur")->state, KeyState::kActive);
  EXPECT_TRUE(plan.lost.empty());
  EXPECT_TRUE(plan.adopted.empty());
}

// --- the lifecycle of adopted keys ---------------------------------------------------------

LifecyclePolicy policy() {
  LifecyclePolicy p;
  p.jwks_max_age = 60;
  p.retire_grace = 50;
  p.max_token_lifetime = 86400;
  return p;
}

TEST(Repair, AdoptedKeyIsKeptAtLeastATokenLifetime) {
  const LifecyclePolicy p = policy();
  const RepairPlan plan = plan_repair(consistent_record(), [] {
    auto token = consistent_token();
    token.push_back(token_key("0f", "orphan"));
    return token;
  }(), {}, {}, kNow);
  const RecordEntry* orphan = by_kid(plan.record, "orphan");
  ASSERT_NE(orphan, nullptr);
  const std::int64_t floor = orphan->retired_at + p.max_token_lifetime + p.retire_grace + p.jwks_max_age;
  EXPECT_GE(destroy_at(*orphan, {}, p), floor);
  // A small reservation does not shorten it; a later one lengthens it.
  EXPECT_GE(destroy_at(*orphan, {{"orphan", {kNow + 10, 1}}}, p), floor);
  EXPECT_EQ(destroy_at(*orphan, {{"orphan", {kNow + 200000, 1}}}, p), kNow + 200000 + p.retire_grace + p.jwks_max_age);
  // A key Signet retired itself has its usage as evidence: no token lifetime added.
  RecordEntry own = *orphan;
  own.adopted = false;
  EXPECT_EQ(destroy_at(own, {}, p), own.retired_at + p.retire_grace + p.jwks_max_age);

  // decide() holds the adopted key until then, and destroys it after.
  RingRecord ring;
  ring.keys = {entry("02", "cur", KeyState::kActive, 900, 1000), *orphan};
  const Decision early = decide(ring, {}, p, floor - 1, false);
  EXPECT_FALSE(early.step == Step::kDestroy && early.kid == "orphan");
  const Decision due = decide(ring, {}, p, floor, false);
  EXPECT_EQ(due.step, Step::kDestroy);
  EXPECT_EQ(due.kid, "orphan");
}

TEST(Repair, AdoptedKeySurvivesAFullRoundTripThroughTheRecord) {
  const RepairPlan plan = plan_repair(RingRecord{}, {token_key("01", "a"), token_key("02", "b")}, {}, {}, kNow);
  const auto decoded = decode_record(encode_record(plan.record));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->keys.size(), 2u);
  for (const auto& e : decoded->keys) {
    EXPECT_TRUE(e.adopted) << e.kid;
    EXPECT_EQ(e.jwk, jwk_of(e.kid));
  }
  // Read back, the same ring needs no further repair.
  const RepairPlan again = plan_repair(*decoded, {token_key("01", "a"), token_key("02", "b")}, {}, {}, kNow + 1);
  EXPECT_FALSE(again.changed);
  EXPECT_TRUE(again.adopted.empty());
}

}  // namespace
}  // namespace signet::ring
