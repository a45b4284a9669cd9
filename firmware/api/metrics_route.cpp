// GET /metrics: Prometheus text for requests by route and status, failed authentications,
// signing latency and the gate, the HSM's connection, and the ring's keys.
#include <chrono>
#include <cstdio>
#include <string>

#include "firmware/api/handlers.h"
#include "firmware/api/metrics_help.h"
#include "http/service_metrics.h"

namespace signet::api {
namespace {

// The HSM's connection and the rotation job's trouble, for alerts.
void render_hsm_metrics(const ApiContext& context, std::int64_t now_ms, std::string& out) {
  const hsm::HealthReport health = context.hsm.health();
  out += "# TYPE signet_hsm_up gauge\nsignet_hsm_up " + std::string(health.state == hsm::Health::kReady ? "1" : "0") + "\n";
  out += "# TYPE signet_hsm_state gauge\n";
  for (auto state : {hsm::Health::kReady, hsm::Health::kRecovering, hsm::Health::kFailed}) {
    out += "signet_hsm_state{state=\"" + std::string(hsm::health_name(state)) + "\"} " +
           (state == health.state ? "1" : "0") + "\n";
  }
  out += "# TYPE signet_hsm_recoveries_total counter\nsignet_hsm_recoveries_total " + std::to_string(health.recoveries) + "\n";
  out += "# TYPE signet_hsm_faults_total counter\nsignet_hsm_faults_total " + std::to_string(health.faults) + "\n";
  // 1: the token itself keeps the promise (read back from it); 0: only Signet's own code does.
  out += "# TYPE signet_hsm_guarantee gauge\n";
  for (const hsm::Guarantee& g : hsm::guarantees(context.hsm.token_profile())) {
    out += "signet_hsm_guarantee{name=\"" + std::string(g.name) + "\"} " + (g.by_token ? "1" : "0") + "\n";
  }
  if (health.last_signature_ms > 0) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f", static_cast<double>(now_ms - health.last_signature_ms) / 1000.0);
    out += "# TYPE signet_hsm_seconds_since_last_signature gauge\nsignet_hsm_seconds_since_last_signature " +
           std::string(seconds) + "\n";
  }
  out += "# TYPE signet_rotation_failures_total counter\nsignet_rotation_failures_total " +
         std::to_string(context.rotation.failed_ticks()) + "\n";
}

}  // namespace

http::Response metrics(const Call& call) {
  const ApiContext& context = call.context;
  std::string out;
  call.router.render_metrics(out);
  context.auth_failures->render_metrics(out, limits::AuthFailures::Clock::now());
  context.issuer.render_metrics(out);
  const auto snapshot = context.ring.snapshot();
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
  std::size_t by_state[3] = {0, 0, 0};
  std::string ages = "# TYPE signet_key_age_seconds gauge\n";
  std::string signed_total = "# TYPE signet_tokens_signed_total counter\n";
  for (const auto& key : snapshot->keys) {
    const std::string_view state = ring::state_name(key.entry.state);
    ++by_state[static_cast<int>(key.entry.state)];
    ages += "signet_key_age_seconds{kid=\"" + key.entry.kid + "\",state=\"" + std::string(state) + "\"} " +
            std::to_string(now - key.entry.created_at) + "\n";
    signed_total += "signet_tokens_signed_total{kid=\"" + key.entry.kid + "\"} " +
                    std::to_string(key.counters ? key.counters->signed_count.load() : 0) + "\n";
  }
  out += "# TYPE signet_keys gauge\n";
  for (auto state : {ring::KeyState::kNext, ring::KeyState::kActive, ring::KeyState::kRetiring}) {
    out += "signet_keys{state=\"" + std::string(ring::state_name(state)) + "\"} " +
           std::to_string(by_state[static_cast<int>(state)]) + "\n";
  }
  out += ages + signed_total;
  render_hsm_metrics(context, std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count(), out);
  http::render_service_metrics(out);
  context.reloads->render(out);
  http::Response r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = with_help(out);
  return r;
}

}  // namespace signet::api
