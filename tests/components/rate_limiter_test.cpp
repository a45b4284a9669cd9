#include "firmware/limits/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace signet::limits {
namespace {

using Clock = RateLimiter::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(1000);

int take_all(RateLimiter& limiter, std::size_t client, Clock::time_point now) {
  int allowed = 0;
  for (int i = 0; i < 10'000 && limiter.try_take(client, now).allowed; ++i) ++allowed;
  return allowed;
}

TEST(RateLimiter, BurstThenRefusalWithRetryAfter) {
  RateLimiter limiter(1, /*rate=*/2, /*burst=*/5);
  EXPECT_EQ(take_all(limiter, 0, kStart), 5);
  const auto refused = limiter.try_take(0, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 1);  // half a second, rounded up

  RateLimiter slow(1, /*rate=*/0.1);  // one request per 10 s, burst 1
  EXPECT_TRUE(slow.try_take(0, kStart).allowed);
  EXPECT_EQ(slow.try_take(0, kStart).retry_after_seconds, 10);
  EXPECT_EQ(slow.try_take(0, kStart + milliseconds(2500)).retry_after_seconds, 8);  // 7.5 s
  EXPECT_TRUE(slow.try_take(0, kStart + seconds(10)).allowed);
}

TEST(RateLimiter, BurstDefaultsToRate) {
  RateLimiter limiter(1, /*rate=*/20);
  EXPECT_EQ(take_all(limiter, 0, kStart), 20);
}

TEST(RateLimiter, RefillsOverTime) {
  RateLimiter limiter(1, /*rate=*/10);
  EXPECT_EQ(take_all(limiter, 0, kStart), 10);
  EXPECT_EQ(take_all(limiter, 0, kStart + milliseconds(50)), 0);
  EXPECT_EQ(take_all(limiter, 0, kStart + milliseconds(100)), 1);
  EXPECT_EQ(take_all(limiter, 0, kStart + milliseconds(400)), 3);
  EXPECT_EQ(take_all(limiter, 0, kStart + seconds(2)), 10);       // full again, not more
  EXPECT_EQ(take_all(limiter, 0, kStart + std::chrono::hours(5)), 10);  // a long idle: still 10
}

TEST(RateLimiter, ClientsAreIndependent) {
  RateLimiter limiter(3, /*rate=*/4);
  EXPECT_EQ(take_all(limiter, 1, kStart), 4);
  EXPECT_FALSE(limiter.try_take(1, kStart).allowed);
  EXPECT_EQ(take_all(limiter, 0, kStart), 4);
  EXPECT_EQ(take_all(limiter, 2, kStart), 4);
}

TEST(RateLimiter, RateZeroIsUnlimited) {
  RateLimiter limiter(2, /*rate=*/0);
  EXPECT_EQ(take_all(limiter, 0, kStart), 10'000);
}

TEST(RateLimiter, UnknownClientIsRefused) {
  RateLimiter limiter(2, /*rate=*/0);
  EXPECT_FALSE(limiter.try_take(2, kStart).allowed);
}

// At one instant, eight threads racing on one bucket get exactly its burst between them.
TEST(RateLimiter, RacingThreadsShareOneBurst) {
  RateLimiter limiter(1, /*rate=*/100, /*burst=*/500);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20'000; ++i) allowed += limiter.try_take(0, kStart).allowed ? 1 : 0;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 500);
}

// On the real clock, eight threads never get more than burst + rate × elapsed.
TEST(RateLimiter, HammeredBucketNeverExceedsItsRate) {
  constexpr double kRate = 2000;
  constexpr int kBurst = 100;
  RateLimiter limiter(1, kRate, kBurst);
  std::atomic<long> allowed{0};
  const auto start = Clock::now();
  const auto stop = start + milliseconds(300);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (auto now = Clock::now(); now < stop; now = Clock::now()) {
        if (limiter.try_take(0, now).allowed) ++allowed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  EXPECT_LE(allowed.load(), kBurst + static_cast<long>(kRate * elapsed.count()) + 1);
  EXPECT_GE(allowed.load(), kBurst);
  std::printf("[ measure  ] %ld allowed in %.3f s (bound %.0f)\n", allowed.load(),
              elapsed.count(), kBurst + kRate * elapsed.count());
}

}  // namespace
}  // namespace signet::limits
