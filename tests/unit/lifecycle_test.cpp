#include "firmware/ring/lifecycle.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace signet::ring {
namespace {

LifecyclePolicy policy() {
  LifecyclePolicy p;
  p.rotate_every = 1000;
  p.prepublish = 100;
  p.jwks_max_age = 60;
  p.retire_grace = 50;
  p.refresh_interval = 5;
  p.max_published = 4;
  return p;
}

// Carries out decisions on a record the way the rotation job does, with a fake clock, and
// checks the invariants after every step.
class Simulation {
 public:
  explicit Simulation(LifecyclePolicy p) : policy_(p) {}

  void run_until(std::int64_t end, std::int64_t tick, std::uint64_t tokens_per_tick = 0, std::int64_t ttl = 300) {
    for (; now_ <= end; now_ += tick) {
      for (int i = 0; i < 8; ++i) {
        const Decision d = decide(record_, usage_, policy_, now_, false);
        if (d.step == Step::kNone) break;
        apply(d);
        check();
      }
      if (const RecordEntry* active = record_.active()) {
        KeyUsage& u = usage_[active->kid];
        u.tokens += tokens_per_tick;
        if (tokens_per_tick) u.latest_exp = std::max(u.latest_exp, now_ + ttl);
        signed_until_[active->kid] = u.latest_exp;
      }
    }
  }

  int promotions = 0;
  int destructions = 0;
  RingRecord record_;
  UsageTotals usage_;

 private:
  void apply(const Decision& d) {
    switch (d.step) {
      case Step::kActivateFirst:
        record_.keys.push_back({std::to_string(serial_), "k" + std::to_string(serial_), "ES256", KeyState::kActive, now_, now_, 0});
        ++serial_;
        break;
      case Step::kGenerateNext:
        record_.keys.push_back({std::to_string(serial_), "k" + std::to_string(serial_), "ES256", KeyState::kNext, now_, 0, 0});
        ++serial_;
        break;
      case Step::kPromote:
        for (auto& k : record_.keys) {
          if (k.state == KeyState::kActive) {
            k.state = KeyState::kRetiring;
            k.retired_at = now_;
          } else if (k.kid == d.kid) {
            // Published long enough before it may sign.
            EXPECT_GE(now_ - k.created_at, std::max(policy_.prepublish, policy_.jwks_max_age)) << k.kid;
            k.state = KeyState::kActive;
            k.activated_at = now_;
          }
        }
        ++promotions;
        break;
      case Step::kDestroy: {
        const auto it = std::find_if(record_.keys.begin(), record_.keys.end(), [&](const RecordEntry& k) { return k.kid == d.kid; });
        ASSERT_NE(it, record_.keys.end());
        EXPECT_EQ(it->state, KeyState::kRetiring);
        // No token it signed is still valid, and no cached JWKS still needs it.
        EXPECT_GE(now_, signed_until_[it->kid] + policy_.retire_grace + policy_.jwks_max_age) << it->kid;
        record_.keys.erase(it);
        ++destructions;
        break;
      }
      case Step::kNone:
        break;
    }
  }

  void check() {
    const auto active = std::count_if(record_.keys.begin(), record_.keys.end(),
                                      [](const RecordEntry& k) { return k.state == KeyState::kActive; });
    EXPECT_EQ(active, 1);
    EXPECT_LE(record_.keys.size(), policy_.max_published);
  }

  LifecyclePolicy policy_;
  std::int64_t now_ = 0;
  int serial_ = 0;
  std::map<std::string, std::int64_t> signed_until_;
};

TEST(Lifecycle, PublishLeadCoversCacheAndRefresh) {
  LifecyclePolicy p = policy();
  EXPECT_EQ(p.publish_lead(), 105);
  p.jwks_max_age = 500;
  EXPECT_EQ(p.publish_lead(), 505);
}

TEST(Lifecycle, ManyRotationsByTime) {
  Simulation sim(policy());
  sim.run_until(100000, 7, 3);
  EXPECT_GE(sim.promotions, 95);  // about one per rotate_every
  EXPECT_LE(sim.promotions, 100);
  EXPECT_GE(sim.destructions, sim.promotions - 2);
}

TEST(Lifecycle, RotationByTokenCount) {
  LifecyclePolicy p = policy();
  p.rotate_every = 1000000;
  p.max_tokens_per_key = 500;
  Simulation sim(p);
  sim.run_until(20000, 10, 50);  // 500 tokens every 100 s, and a next key is ready after 105 s
  EXPECT_GE(sim.promotions, 90);
}

TEST(Lifecycle, RetiringKeyStaysWhileItsTokensLive) {
  LifecyclePolicy p = policy();
  Simulation sim(p);
  sim.run_until(1500, 10, 1, 5000);  // tokens that live 5000 s
  ASSERT_GE(sim.promotions, 1);
  EXPECT_EQ(sim.destructions, 0);  // the first key signed tokens valid until ~6000
}

TEST(Lifecycle, DecisionsOnHandMadeRings) {
  const LifecyclePolicy p = policy();
  RingRecord ring;
  EXPECT_EQ(decide(ring, {}, p, 0, false).step, Step::kActivateFirst);

  ring.keys.push_back({"1", "a", "ES256", KeyState::kActive, 0, 0, 0});
  EXPECT_EQ(decide(ring, {}, p, 10, false).step, Step::kGenerateNext);

  ring.keys.push_back({"2", "b", "ES256", KeyState::kNext, 10, 0, 0});
  EXPECT_EQ(decide(ring, {}, p, 20, false).step, Step::kNone);
  // An operator's request waits for pre-publication, and says so.
  Decision early = decide(ring, {}, p, 20, true);
  EXPECT_EQ(early.step, Step::kNone);
  EXPECT_TRUE(early.held);
  EXPECT_EQ(decide(ring, {}, p, 10 + 105, true).step, Step::kPromote);
  EXPECT_EQ(decide(ring, {}, p, 1000, false).step, Step::kPromote);

  // A ring without an active key hands over to its next key rather than making another.
  ring.keys[0].state = KeyState::kRetiring;
  ring.keys[0].retired_at = 30;
  const Decision handover = decide(ring, {}, p, 40, false);
  EXPECT_EQ(handover.step, Step::kPromote);
  EXPECT_EQ(handover.kid, "b");
}

TEST(Lifecycle, CapHoldsRotationBackAndSaysWhy) {
  LifecyclePolicy p = policy();
  p.max_published = 2;
  RingRecord ring;
  ring.keys.push_back({"1", "old", "ES256", KeyState::kRetiring, 0, 0, 900});
  ring.keys.push_back({"2", "cur", "ES256", KeyState::kActive, 0, 900, 0});
  UsageTotals usage{{"old", {5000, 10}}};
  const Decision d = decide(ring, usage, p, 2000, false);
  EXPECT_EQ(d.step, Step::kNone);
  EXPECT_TRUE(d.held);
  EXPECT_NE(d.reason.find("max_published"), std::string::npos);
  // Once the retiring key's tokens are gone (+ grace + max age), it is destroyed first.
  EXPECT_EQ(decide(ring, usage, p, 5000 + 50 + 60, false).step, Step::kDestroy);
}

TEST(Lifecycle, TotalsAddCountsAndTakeTheLatestExp) {
  const UsageTotals totals = total_usage({{1, "r1", {{"k", {100, 5}}}}, {1, "r2", {{"k", {90, 7}}, {"j", {1, 1}}}}});
  EXPECT_EQ(totals.at("k").tokens, 12u);
  EXPECT_EQ(totals.at("k").latest_exp, 100);
  EXPECT_EQ(totals.at("j").tokens, 1u);
}

TEST(Lifecycle, JwksCacheShrinksWithTheTimeTheRingWasNotRead) {
  // max_age 60 s, refresh 5 s: fresh enough for the whole max_age...
  EXPECT_EQ(jwks_cache_seconds(60, 5, 0), 60);
  EXPECT_EQ(jwks_cache_seconds(60, 5, 5000), 60);
  // ...then only what is left of the pre-publication lead...
  EXPECT_EQ(jwks_cache_seconds(60, 5, 25000), 40);
  EXPECT_EQ(jwks_cache_seconds(60, 5, 64500), 0);
  // ...and nothing once a key written since may sign.
  EXPECT_EQ(jwks_cache_seconds(60, 5, 65000), 0);
  EXPECT_EQ(jwks_cache_seconds(60, 5, 3600000), 0);
}

}  // namespace
}  // namespace signet::ring
