// What the server counts about connections, for /metrics. It belongs to the Router, which the
// server and the metrics route both reach, so no one else has to carry it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace signet::http {

struct ConnectionStats {
  std::atomic<std::uint64_t> open{0};
  std::atomic<std::uint64_t> refused{0};    // over limits.max_connections or max_connections_per_address
  std::atomic<std::uint64_t> timed_out{0};  // shut down for missing limits.request_timeout or idle_timeout
  std::atomic<std::uint64_t> parked{0};     // waiting for a deferred answer (the audit ledger), threadless

  void render(std::string& out) const {
    out += "# TYPE signet_connections_open gauge\nsignet_connections_open " +
           std::to_string(open.load(std::memory_order_relaxed)) + "\n";
    out += "# TYPE signet_connections_refused_total counter\nsignet_connections_refused_total " +
           std::to_string(refused.load(std::memory_order_relaxed)) + "\n";
    out += "# TYPE signet_connections_timed_out_total counter\nsignet_connections_timed_out_total " +
           std::to_string(timed_out.load(std::memory_order_relaxed)) + "\n";
    out += "# TYPE signet_connections_parked gauge\nsignet_connections_parked " +
           std::to_string(parked.load(std::memory_order_relaxed)) + "\n";
  }
};

}  // namespace signet::http
