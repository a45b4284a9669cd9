// Per-client token buckets for `limits.requests_per_second_per_client`: a client may send
// `burst` requests at once, then `rate` per second; a refused request learns when to retry.
// The clients are fixed when the limiter is built, so a decision allocates nothing and takes
// no lock: each bucket is one atomic word (GCRA, the token bucket written as a single
// "theoretical arrival time"), on its own cache line so busy clients do not slow each other.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace signet::limits {

struct Decision {
  bool allowed = false;
  std::int64_t retry_after_seconds = 0;  // when refused: whole seconds, at least 1
};

class RateLimiter {
 public:
  // Monotonic, so that a wall-clock step neither refills nor drains the buckets. Tests pass
  // their own time points.
  using Clock = std::chrono::steady_clock;

  // rate in requests per second, 0 for unlimited; burst 0 means burst = rate (at least 1).
  RateLimiter(std::size_t clients, double rate, double burst = 0);

  // Takes one token from the client's bucket if it has one. client_index is the client's
  // position in the configuration; an index out of range is refused.
  Decision try_take(std::size_t client_index, Clock::time_point now);

  // Gives bucket `index` the state of bucket `from_index` of `from` (a reload keeping a
  // client's bucket). Not atomic as a whole: meant for a limiter no one uses yet.
  void inherit(std::size_t index, const RateLimiter& from, std::size_t from_index);

  std::size_t clients() const { return clients_; }

 private:
  struct alignas(64) Bucket {
    // The time, in nanoseconds of Clock, at which the bucket would be full again.
    std::atomic<std::int64_t> full_at;
  };

  std::size_t clients_;
  std::int64_t interval_ns_ = 0;  // one token's worth of time; 0 = unlimited
  std::int64_t burst_ns_ = 0;     // burst tokens' worth of time
  std::unique_ptr<Bucket[]> buckets_;
};

}  // namespace signet::limits
