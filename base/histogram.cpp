#include "base/histogram.h"

#include <cstdio>

namespace signet {

void LatencyHistogram::observe(std::chrono::nanoseconds latency) {
  const auto micros = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
  std::size_t i = 0;
  while (i < kBoundsMicros.size() && micros > kBoundsMicros[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<std::uint64_t>(latency.count()), std::memory_order_relaxed);
}

void LatencyHistogram::render(std::string_view name, std::string_view labels, std::string& out) const {
  const std::string prefix = std::string(name) + "_bucket{" + std::string(labels) + (labels.empty() ? "" : ",");
  std::uint64_t cumulative = 0;
  char line[64];
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    if (i < kBoundsMicros.size()) {
      std::snprintf(line, sizeof line, "le=\"%g\"} %llu\n", kBoundsMicros[i] / 1e6, static_cast<unsigned long long>(cumulative));
    } else {
      std::snprintf(line, sizeof line, "le=\"+Inf\"} %llu\n", static_cast<unsigned long long>(cumulative));
    }
    out += prefix + line;
  }
  const std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  std::snprintf(line, sizeof line, " %.6f\n", sum_nanos_.load(std::memory_order_relaxed) / 1e9);
  out += std::string(name) + "_sum" + braces + line;
  out += std::string(name) + "_count" + braces + " " + std::to_string(cumulative) + "\n";
}

std::uint64_t LatencyHistogram::count() const {
  std::uint64_t total = 0;
  for (const auto& bucket : buckets_) total += bucket.load(std::memory_order_relaxed);
  return total;
}

}  // namespace signet
