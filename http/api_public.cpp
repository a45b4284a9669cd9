// The public routes: the JWKS, OIDC discovery and health. No credentials, no HSM on the path
// of the JWKS: it answers from the ring's pre-rendered bytes.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "firmware/oauth/metadata.h"
#include "http/api.h"
#include "http/metrics_help.h"

namespace signet::http {
namespace {

// If-None-Match per RFC 9110 §13.1.2 (weak comparison): "*", or a list holding our tag,
// with or without a W/ prefix.
bool etag_matches(std::string_view header, std::string_view etag) {
  if (header == "*") return true;
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t end = header.find(',', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view tag = header.substr(pos, end - pos);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == etag) return true;
    pos = end + 1;
  }
  return false;
}

Response jwks(const ApiContext& context, const std::string& cache_control, const Request& request) {
  const auto snapshot = context.ring.snapshot();
  // A set this replica could not read from its token for a while may lack a key another replica
  // signs with by now: it is cached for less, or not served (ring::jwks_cache_seconds).
  const std::int64_t max_age = context.config.jwks_max_age.count();
  const std::int64_t staleness = context.ring.staleness_ms();
  const std::int64_t refresh = context.config.keys.refresh_interval.count();
  const bool too_old = staleness > (max_age + refresh) * 1000;
  const std::int64_t cache_seconds = staleness <= refresh * 1000 ? max_age : ring::jwks_cache_seconds(max_age, refresh, staleness);
  if (!snapshot->loaded || too_old) {
    // Started while the token was away (nothing to publish yet: an empty set would be cached as
    // "these issuer keys do not exist"), or the set may be missing a key that signs now.
    Response r = error_response(503, "hsm_unavailable", "the key set is not known to be current; retry shortly");
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  Response r;
  r.headers.emplace_back("ETag", snapshot->etag);
  r.headers.emplace_back("Cache-Control", cache_seconds == max_age ? cache_control
                                                                    : "public, max-age=" + std::to_string(cache_seconds));
  const auto if_none_match = request.header("If-None-Match");
  if (if_none_match && etag_matches(*if_none_match, snapshot->etag)) {
    r.status = 304;
    return r;
  }
  r.content_type = "application/jwk-set+json";
  // Shares the snapshot's bytes: the aliasing pointer keeps the whole snapshot alive.
  r.shared_body = std::shared_ptr<const std::string>(snapshot, &snapshot->jwks_body);
  return r;
}

// Ready means a token could be signed now: the HSM is connected and answers, the ring is known,
// its active key is in the token, and a signature has worked since the HSM last (re)connected.
Response readiness(const ApiContext& context) {
  const hsm::HealthReport health = context.hsm.health();
  const auto snapshot = context.ring.snapshot();
  const ring::RingKey* active = snapshot->active();
  std::string reason;
  if (health.state == hsm::Health::kFailed) reason = "the HSM cannot be used: " + health.reason;
  else if (health.state == hsm::Health::kRecovering) reason = "the HSM is reconnecting";
  else if (!context.hsm.check_health().ok()) reason = "the HSM does not answer";
  else if (!snapshot->loaded) reason = "the key ring has not been read yet";
  else if (!active) reason = "the key ring has no active key";
  else if (!active->in_token) reason = "the token does not show the active key";
  else if (!health.signed_since_recovery) reason = "no signature has worked since the HSM connected";
  if (!reason.empty()) {
    Response r = json_response(503, nlohmann::json{{"status", "unavailable"}, {"reason", reason}}.dump());
    r.headers.emplace_back("Retry-After", std::to_string(std::max(1L, health.retry_after_seconds)));
    return r;
  }
  return json_response(200, R"({"status":"ready"})");
}

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

// Prometheus text: requests by route and status, signing latency, HSM errors, and the ring.
Response metrics(const ApiContext& context, const Router& router) {
  std::string out;
  router.render_metrics(out);
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
  render_service_metrics(out);
  context.reloads->render(out);
  Response r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = with_help(out);
  return r;
}

}  // namespace

std::string render_discovery(const config::Config& config) { return oauth::openid_configuration(config).dump(); }

void add_public_routes(Router& router, const ApiContext& context) {
  const auto* c = &context;
  // Never longer than the ring's pre-publication: a cached JWKS always holds the next signer.
  const std::string cache_control = "public, max-age=" + std::to_string(context.config.jwks_max_age.count());
  router.add("GET", "/.well-known/jwks.json", [c, cache_control](const Request& r) { return jwks(*c, cache_control, r); });
  router.add("GET", "/jwks", [c, cache_control](const Request& r) { return jwks(*c, cache_control, r); });
  router.add("GET", "/.well-known/openid-configuration", [c, cache_control](const Request&) {
    Response r = json_response(200, c->discovery_document);
    r.headers.emplace_back("Cache-Control", cache_control);
    return r;
  });
  router.add("GET", "/healthz", [](const Request&) { return json_response(200, R"({"status":"ok"})"); });
  router.add("GET", "/readyz", [c](const Request&) { return readiness(*c); });
}

std::unique_ptr<Router> make_router(const ApiContext& context) {
  auto router = std::make_unique<Router>();
  add_public_routes(*router, context);
  add_token_routes(*router, context);
  add_admin_routes(*router, context);
  add_verify_routes(*router, context);
  add_oauth_routes(*router, context);
  add_introspect_routes(*router, context);
  add_metadata_routes(*router, context);
  const Router* table = router.get();
  router->add("GET", "/metrics", [&context, table](const Request&) { return metrics(context, *table); });
  return router;
}

}  // namespace signet::http
