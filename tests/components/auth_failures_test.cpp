#include "firmware/limits/auth_failures.h"

#include <gtest/gtest.h>

#include <string>

namespace signet::limits {
namespace {

using Reason = AuthFailures::Reason;
using Clock = AuthFailures::Clock;
using std::chrono::minutes;
using std::chrono::seconds;

Address v4(unsigned char last, unsigned char third = 0) {
  const unsigned char raw[4] = {10, 0, third, last};
  return Address::from_bytes(std::string_view(reinterpret_cast<const char*>(raw), 4));
}

AuthFailures::Options options(unsigned threshold = 3) {
  AuthFailures::Options o;
  o.threshold = threshold;
  o.max_backoff = seconds(60);
  o.forgive_every = seconds(60);
  o.capacity = 64;
  return o;
}

const Clock::time_point t0 = Clock::time_point(std::chrono::hours(1000));

TEST(AuthFailures, PastTheThresholdAnAddressBacksOffLongerEachTime) {
  AuthFailures::Options slow_to_forgive = options(3);
  slow_to_forgive.forgive_every = std::chrono::hours(1);  // the minutes waited here forgive nothing
  AuthFailures failures(slow_to_forgive);
  const Address attacker = v4(2);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(failures.admit(attacker, t0).allowed);
    EXPECT_TRUE(failures.record(Reason::kUnknownKey, attacker, {}, t0).allowed) << i;
  }
  // The fourth failure starts a backoff of 1 s; each further one doubles it, up to the cap.
  auto decision = failures.record(Reason::kUnknownKey, attacker, {}, t0);
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.retry_after_seconds, 1);
  EXPECT_FALSE(failures.admit(attacker, t0).allowed);
  EXPECT_TRUE(failures.admit(attacker, t0 + seconds(1)).allowed);
  std::int64_t previous = 1;
  auto now = t0 + seconds(1);
  for (int i = 0; i < 8; ++i) {
    decision = failures.record(Reason::kUnknownKey, attacker, {}, now);
    EXPECT_FALSE(decision.allowed);
    EXPECT_EQ(decision.retry_after_seconds, std::min<std::int64_t>(60, previous * 2)) << i;
    previous = decision.retry_after_seconds;
    const auto refused = failures.admit(attacker, now);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retry_after_seconds, previous);
    now += seconds(previous);
  }
  EXPECT_EQ(previous, 60);  // max_backoff
}

TEST(AuthFailures, AnotherAddressIsNotAffected) {
  AuthFailures failures(options(3));
  for (int i = 0; i < 10; ++i) failures.record(Reason::kUnknownKey, v4(2), {}, t0);
  EXPECT_FALSE(failures.admit(v4(2), t0).allowed);
  EXPECT_TRUE(failures.admit(v4(1), t0).allowed);
}

TEST(AuthFailures, FailuresAreForgivenOverTime) {
  AuthFailures failures(options(3));
  for (int i = 0; i < 5; ++i) failures.record(Reason::kUnknownKey, v4(2), {}, t0);
  EXPECT_FALSE(failures.admit(v4(2), t0).allowed);
  // Two minutes later two of the five are forgiven: three remain, the threshold itself.
  const auto later = t0 + minutes(2);
  EXPECT_TRUE(failures.admit(v4(2), later).allowed);
  EXPECT_FALSE(failures.record(Reason::kUnknownKey, v4(2), {}, later).allowed);  // 4 > 3
  // An hour on, all is forgiven: the threshold applies afresh.
  const auto much_later = t0 + minutes(60);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(failures.record(Reason::kUnknownKey, v4(2), {}, much_later).allowed);
}

TEST(AuthFailures, MissingCredentialsAreCountedButAreNoGuess) {
  AuthFailures failures(options(1));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(failures.record(Reason::kMissing, v4(2), {}, t0).allowed);
  EXPECT_TRUE(failures.admit(v4(2), t0).allowed);
  std::string metrics;
  failures.render_metrics(metrics, t0);
  EXPECT_NE(metrics.find("signet_auth_failures_total{reason=\"missing_credentials\"} 10\n"), std::string::npos)
      << metrics;
}

TEST(AuthFailures, ThresholdZeroOnlyCounts) {
  AuthFailures failures(options(0));
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(failures.record(Reason::kWrongSecret, v4(2), "webapp", t0).allowed);
  EXPECT_TRUE(failures.admit(v4(2), t0).allowed);
}

TEST(AuthFailures, AGuessedClientIdBlocksEachFailingAddressNotTheClient) {
  AuthFailures failures(options(3));
  // A distributed guess: one failure from each of many addresses, all naming "webapp".
  for (unsigned char a = 10; a < 13; ++a) {
    EXPECT_TRUE(failures.record(Reason::kWrongSecret, v4(a), "webapp", t0).allowed);
  }
  // Past the id's threshold, one failure is enough to block the address that made it...
  EXPECT_FALSE(failures.record(Reason::kWrongSecret, v4(13), "webapp", t0).allowed);
  EXPECT_FALSE(failures.admit(v4(13), t0).allowed);
  // ...while an address that has not failed (the real client) is let in, and failures naming
  // another id are counted as usual.
  EXPECT_TRUE(failures.admit(v4(1), t0).allowed);
  EXPECT_TRUE(failures.record(Reason::kWrongSecret, v4(14), "other", t0).allowed);
}

TEST(AuthFailures, CyclingAddressesCannotPushOutABlockedOne) {
  AuthFailures failures(options(3));  // 64 entries
  for (int i = 0; i < 10; ++i) failures.record(Reason::kUnknownKey, v4(2), {}, t0);
  ASSERT_FALSE(failures.admit(v4(2), t0).allowed);
  // Far more addresses than the table holds, one failure each: memory stays the table's.
  for (int i = 0; i < 20000; ++i) {
    failures.record(Reason::kUnknownKey, v4(static_cast<unsigned char>(i), static_cast<unsigned char>(1 + i / 256)),
                    {}, t0);
  }
  EXPECT_FALSE(failures.admit(v4(2), t0).allowed);
  std::string metrics;
  failures.render_metrics(metrics, t0);
  EXPECT_NE(metrics.find("signet_auth_blocked_addresses 1\n"), std::string::npos) << metrics;
}

TEST(AuthFailures, Ipv6IsKeyedByItsPrefix) {
  AuthFailures failures(options(3));
  unsigned char raw[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1};
  for (unsigned char host = 1; host <= 5; ++host) {
    raw[15] = host;  // another address in the same /64
    failures.record(Reason::kUnknownKey, Address::from_bytes(std::string_view(reinterpret_cast<char*>(raw), 16)), {},
                    t0);
  }
  raw[15] = 200;
  const Address same_prefix = Address::from_bytes(std::string_view(reinterpret_cast<char*>(raw), 16));
  EXPECT_FALSE(failures.admit(same_prefix, t0).allowed);
  EXPECT_EQ(same_prefix.to_string(), "2001:db8:0:1::/64");
  const unsigned char mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
  EXPECT_EQ(Address::from_bytes(std::string_view(reinterpret_cast<const char*>(mapped), 16)).to_string(), "10.0.0.2");
}

}  // namespace
}  // namespace signet::limits
