// How long the Hsm waits between attempts to reconnect to a token that went away: exponential
// from 100 ms to 10 s, each wait drawn between half and all of its step, so that a token that
// comes back is found quickly, one that stays away is not hammered, and replicas sharing it do
// not reconnect in lockstep.
#pragma once

#include <algorithm>
#include <chrono>

namespace signet::hsm {

inline constexpr std::chrono::milliseconds kFirstReconnectDelay{100};
inline constexpr std::chrono::milliseconds kMaxReconnectDelay{10000};

// failed_attempts: how many attempts in a row have failed (1 after the first); unit_random: a
// uniform draw from [0, 1).
inline std::chrono::milliseconds reconnect_delay(unsigned failed_attempts, double unit_random) {
  const unsigned doublings = std::min(failed_attempts > 0 ? failed_attempts - 1 : 0u, 16u);
  const std::chrono::milliseconds step =
      std::min<std::chrono::milliseconds>(kFirstReconnectDelay * (1LL << doublings), kMaxReconnectDelay);
  const double factor = 0.5 + 0.5 * std::clamp(unit_random, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(step.count()) * factor));
}

}  // namespace signet::hsm
