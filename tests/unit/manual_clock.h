// A clock the test moves: sleeping returns at once and moves the monotonic clock on; the wall
// clock stands still unless the test advances it, as record times asserted by a test need.
#pragma once

#include <atomic>

#include "firmware/ring/clock.h"

namespace signet::testing {

class ManualClock final : public ring::Clock {
 public:
  explicit ManualClock(std::int64_t wall_seconds) : wall_ms_(wall_seconds * 1000) {}

  std::int64_t wall_ms() const override { return wall_ms_.load(); }
  std::int64_t steady_ms() const override { return steady_ms_.load(); }
  void sleep_for(std::chrono::milliseconds duration) override { steady_ms_ += duration.count(); }

  // Moves both clocks on, as time passing would.
  void advance(std::chrono::milliseconds duration) {
    wall_ms_ += duration.count();
    steady_ms_ += duration.count();
  }

 private:
  std::atomic<std::int64_t> wall_ms_;
  std::atomic<std::int64_t> steady_ms_{1'000'000};
};

}  // namespace signet::testing
