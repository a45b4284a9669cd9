#include "firmware/limits/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace signet::limits {

RateLimiter::RateLimiter(std::size_t clients, double rate, double burst)
    : clients_(clients), buckets_(new Bucket[clients]) {
  if (rate > 0) {
    interval_ns_ = std::max<std::int64_t>(1, std::llround(1e9 / rate));
    const double tokens = std::max(1.0, burst > 0 ? burst : rate);
    burst_ns_ = std::llround(tokens * static_cast<double>(interval_ns_));
  }
  // "Full since forever": a new bucket holds its whole burst.
  for (std::size_t i = 0; i < clients; ++i) {
    buckets_[i].full_at.store(std::numeric_limits<std::int64_t>::min() / 2,
                              std::memory_order_relaxed);
  }
}

Decision RateLimiter::try_take(std::size_t client_index, Clock::time_point now) {
  if (client_index >= clients_) return {false, 1};
  if (interval_ns_ == 0) return {true, 0};
  const std::int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  auto& full_at = buckets_[client_index].full_at;
  std::int64_t seen = full_at.load(std::memory_order_relaxed);
  for (;;) {
    // Taking a token pushes "full again" one interval later; the bucket is empty when that
    // lies more than a whole burst ahead of now.
    const std::int64_t wanted = std::max(seen, now_ns) + interval_ns_;
    const std::int64_t excess = wanted - now_ns - burst_ns_;
    if (excess > 0) {
      const auto seconds = static_cast<std::int64_t>((excess + 999'999'999) / 1'000'000'000);
      return {false, std::max<std::int64_t>(1, seconds)};
    }
    if (full_at.compare_exchange_weak(seen, wanted, std::memory_order_relaxed)) return {true, 0};
  }
}

void RateLimiter::inherit(std::size_t index, const RateLimiter& from, std::size_t from_index) {
  if (index >= clients_ || from_index >= from.clients_) return;
  buckets_[index].full_at.store(from.buckets_[from_index].full_at.load(std::memory_order_relaxed),
                                std::memory_order_relaxed);
}

}  // namespace signet::limits
