// The families of /metrics about the service as a whole rather than its requests: which build
// runs (signet_build_info), the process (process_*), when the served TLS certificate expires,
// and how the last SIGHUP reload ended, so that an operator can alert on each.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace signet::http {

// The outcome of the last reload. Until the first SIGHUP it is the start, which loaded the
// config successfully (as Prometheus's own config_last_reload_successful reads).
class ReloadRecord {
 public:
  ReloadRecord();
  void record(bool applied, std::int64_t unix_seconds);
  void render(std::string& out) const;

 private:
  std::atomic<bool> applied_{true};
  std::atomic<std::int64_t> at_;
};

// signet_build_info{version, revision} 1, process_*, and the served certificate's notAfter.
void render_service_metrics(std::string& out);

}  // namespace signet::http
