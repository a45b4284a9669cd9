// The signing gate: its three bounds (slots, queue, deadline) hold, waiters are woken, and the
// options follow the config and the HSM. Timings are generous and only bound from below: a slow
// machine may make these tests slower, never make them fail.
#include "firmware/issuance/signing_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

namespace signet::issuance {
namespace {

using std::chrono::milliseconds;

SigningGate::Options gate_options(std::size_t concurrency, std::size_t max_waiting, milliseconds max_wait) {
  SigningGate::Options options;
  options.concurrency = concurrency;
  options.max_waiting = max_waiting;
  options.max_wait = max_wait;
  return options;
}

SigningGate::Permit take(SigningGate& gate) {
  auto permit = gate.enter();
  EXPECT_TRUE(permit.ok());
  return std::move(permit).value();
}

// Polls until pred() holds; false after 20 s (the test then fails instead of hanging).
template <class Pred>
bool eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

TEST(SigningGate, RefusesPastItsSlotsWithoutAQueue) {
  SigningGate gate(gate_options(2, 0, milliseconds(10'000)));
  auto a = gate.enter();
  auto b = gate.enter();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(gate.in_use(), 2u);
  const auto refused = gate.enter();  // no queue: refused at once, no wait
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kOverloaded);
  EXPECT_GE(refused.error().retry_after_seconds, 1);
  EXPECT_EQ(gate.refused_queue_full(), 1u);
  { auto released = std::move(*a); }  // a slot goes back when its permit dies
  EXPECT_EQ(gate.in_use(), 1u);
  EXPECT_TRUE(gate.enter().ok());
  EXPECT_EQ(gate.in_use(), 1u);  // that permit died at the end of the statement
}

TEST(SigningGate, NeverLetsMoreThanItsSlotsIn) {
  constexpr std::size_t kSlots = 3;
  SigningGate gate(gate_options(kSlots, 64, milliseconds(20'000)));
  std::atomic<std::size_t> inside{0}, most{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto permit = gate.enter();
        if (!permit.ok()) {
          ++refused;
          continue;
        }
        const std::size_t now = ++inside;
        for (std::size_t seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
        }
        std::this_thread::sleep_for(milliseconds(1));  // hold it, so that others pile up
        --inside;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(most.load(), kSlots);
  EXPECT_EQ(refused.load(), 0u);  // 240 short holds never come near a 20 s deadline
  EXPECT_EQ(gate.in_use(), 0u);
  EXPECT_EQ(gate.waiting(), 0u);
}

TEST(SigningGate, RefusesWhenTheQueueIsFullAndServesTheQueueLater) {
  SigningGate gate(gate_options(1, 2, milliseconds(20'000)));
  std::optional<SigningGate::Permit> held(take(gate));
  std::atomic<int> served{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 2; ++i) {
    waiters.emplace_back([&] {
      if (gate.enter().ok()) ++served;
    });
  }
  ASSERT_TRUE(eventually([&] { return gate.waiting() == 2; }));
  const auto refused = gate.enter();  // the third in line: the queue is full
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kOverloaded);
  EXPECT_EQ(gate.refused_queue_full(), 1u);
  EXPECT_EQ(gate.refused_deadline(), 0u);
  held.reset();  // the queue drains, one at a time
  for (auto& waiter : waiters) waiter.join();
  EXPECT_EQ(served.load(), 2);
  EXPECT_EQ(gate.waiting(), 0u);
  EXPECT_EQ(gate.in_use(), 0u);
}

TEST(SigningGate, GivesUpAtTheDeadline) {
  SigningGate gate(gate_options(1, 4, milliseconds(100)));
  auto held = gate.enter();
  ASSERT_TRUE(held.ok());
  const auto started = std::chrono::steady_clock::now();
  const auto refused = gate.enter();
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kOverloaded);
  EXPECT_EQ(refused.error().retry_after_seconds, 1);
  EXPECT_GE(waited, milliseconds(100));  // it did wait its turn before giving up
  EXPECT_EQ(gate.refused_deadline(), 1u);
  EXPECT_EQ(gate.waiting(), 0u);
}

// Woken by the release, not by its deadline: the deadline is three times what eventually()
// allows, so a waiter left asleep shows as a failure, however slow the machine.
TEST(SigningGate, WakesAWaiterWhenASlotFrees) {
  SigningGate gate(gate_options(1, 4, milliseconds(60'000)));
  std::optional<SigningGate::Permit> held(take(gate));
  std::atomic<bool> served{false};
  std::thread waiter([&] { served = gate.enter().ok(); });
  ASSERT_TRUE(eventually([&] { return gate.waiting() == 1; }));
  held.reset();
  EXPECT_TRUE(eventually([&] { return served.load(); }));
  waiter.join();
  EXPECT_EQ(gate.refused_deadline(), 0u);
}

// Many threads on few slots: a lost wake-up would leave a waiter asleep until its deadline and
// show up as a refusal.
TEST(SigningGate, LosesNoWakeUpUnderContention) {
  SigningGate gate(gate_options(2, 64, milliseconds(20'000)));
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) (void)gate.enter();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(gate.refused_deadline() + gate.refused_queue_full(), 0u);
  EXPECT_EQ(gate.in_use(), 0u);
}

TEST(SigningGate, RendersItsMetrics) {
  SigningGate gate(gate_options(1, 0, milliseconds(10)));
  auto held = gate.enter();
  (void)gate.enter();
  std::string out;
  gate.render_metrics(out);
  EXPECT_NE(out.find("# TYPE signet_signing_queue_depth gauge\nsignet_signing_queue_depth 0\n"), std::string::npos);
  EXPECT_NE(out.find("signet_signing_in_flight 1\n"), std::string::npos);
  EXPECT_NE(out.find("signet_signing_refused_total{reason=\"queue_full\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("signet_signing_refused_total{reason=\"deadline\"} 0\n"), std::string::npos);
}

TEST(SigningGate, OptionsFollowTheConfigAndTheHsm) {
  config::Limits limits;
  limits.max_signing_queue = 7;
  limits.max_signing_wait_ms = 40;
  const auto options = signing_gate_options(limits, 32);
  EXPECT_EQ(options.max_waiting, 7u);
  EXPECT_EQ(options.max_wait, milliseconds(40));
  EXPECT_EQ(options.concurrency, 30u);                           // the sessions, less the ring's two
  EXPECT_EQ(signing_gate_options(limits, 8).concurrency, 6u);     // a token with fewer sessions
  EXPECT_EQ(signing_gate_options(limits, 2).concurrency, 1u);
  EXPECT_EQ(signing_gate_options(limits, 0).concurrency, 30u);    // unknown: the pool's default
  limits.max_signing_concurrency = 4;  // the operator's setting
  EXPECT_EQ(signing_gate_options(limits, 32).concurrency, 4u);
  EXPECT_EQ(signing_gate_options(limits, 5).concurrency, 3u);     // still within the sessions
}

TEST(SigningGate, WorkersOutnumberTheSlotsAndTheQueue) {
  config::Limits limits;  // defaults: queue 64, slots from the HSM's default pool (30)
  EXPECT_EQ(http_worker_threads(limits, 2), 30u + 64u + 2u);
  limits.max_signing_concurrency = 8;
  limits.max_signing_queue = 4;
  EXPECT_EQ(http_worker_threads(limits, 2), 8u + 4u + 2u);
  limits.max_signing_queue = 60000;
  EXPECT_EQ(http_worker_threads(limits, 2), 256u);  // a queue that long is bounded by its wait
  limits.max_connections = 10;
  EXPECT_EQ(http_worker_threads(limits, 2), 10u);  // no more workers than connections
  limits.max_connections = 1;
  limits.max_signing_queue = 0;
  EXPECT_EQ(http_worker_threads(limits, 0), 1u);
}

}  // namespace
}  // namespace signet::issuance
