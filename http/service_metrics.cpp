#include "http/service_metrics.h"

#include <chrono>

#include "base/process_stats.h"
#include "base/version.h"
#include "http/tls_identity.h"

namespace signet::http {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

ReloadRecord::ReloadRecord() : at_(unix_now()) {}

void ReloadRecord::record(bool applied, std::int64_t unix_seconds) {
  applied_.store(applied, std::memory_order_relaxed);
  at_.store(unix_seconds, std::memory_order_relaxed);
}

void ReloadRecord::render(std::string& out) const {
  out += "# TYPE signet_reload_last_success gauge\nsignet_reload_last_success " +
         std::string(applied_.load(std::memory_order_relaxed) ? "1" : "0") + "\n";
  out += "# TYPE signet_reload_last_timestamp_seconds gauge\nsignet_reload_last_timestamp_seconds " +
         std::to_string(at_.load(std::memory_order_relaxed)) + "\n";
}

void render_service_metrics(std::string& out) {
  // Label values come from the build (a version and a hex revision): nothing to escape.
  out += "# TYPE signet_build_info gauge\nsignet_build_info{version=\"" + std::string(version()) + "\",revision=\"" +
         std::string(git_revision()) + "\"} 1\n";
  if (const auto stats = read_process_stats()) render_process_metrics(*stats, out);
  if (const auto not_after = TlsIdentity::served_not_after()) {
    out += "# TYPE signet_tls_certificate_expiry_timestamp_seconds gauge\n"
           "signet_tls_certificate_expiry_timestamp_seconds " + std::to_string(*not_after) + "\n";
  }
}

}  // namespace signet::http
