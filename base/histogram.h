// A lock-free latency histogram with fixed buckets, rendered in the Prometheus text format.
// Observing is two relaxed atomic increments and an add: cheap enough for the signing path.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace signet {

class LatencyHistogram {
 public:
  // Upper bounds in microseconds; the last bucket (+Inf) is implicit.
  static constexpr std::array<std::uint64_t, 11> kBoundsMicros = {100,  250,   500,   1000,  2500,  5000,
                                                                  10000, 25000, 50000, 100000, 500000};

  void observe(std::chrono::nanoseconds latency);
  // "<name>_bucket{<labels>,le=...} n" lines, _sum (seconds) and _count.
  void render(std::string_view name, std::string_view labels, std::string& out) const;
  // Observations so far.
  std::uint64_t count() const;

 private:
  std::array<std::atomic<std::uint64_t>, kBoundsMicros.size() + 1> buckets_{};
  std::atomic<std::uint64_t> sum_nanos_{0};
};

}  // namespace signet
