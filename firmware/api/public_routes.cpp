// The public routes: the JWKS, OIDC discovery, RFC 8414 authorization server metadata and health. No credentials, no HSM on the path
// of the JWKS: it answers from the ring's pre-rendered bytes.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "firmware/api/handlers.h"
#include "firmware/oauth/metadata.h"

namespace signet::api {
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

}  // namespace

http::Response jwks(const Call& call) {
  const ApiContext& context = call.context;
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
    http::Response r = http::error_response(503, "hsm_unavailable", "the key set is not known to be current; retry shortly");
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  http::Response r;
  r.headers.emplace_back("ETag", snapshot->etag);
  r.headers.emplace_back("Cache-Control", cache_seconds == max_age ? context.cache_control
                                                                    : "public, max-age=" + std::to_string(cache_seconds));
  const auto if_none_match = call.request.header("If-None-Match");
  if (if_none_match && etag_matches(*if_none_match, snapshot->etag)) {
    r.status = 304;
    return r;
  }
  r.content_type = "application/jwk-set+json";
  // Shares the snapshot's bytes: the aliasing pointer keeps the whole snapshot alive.
  r.shared_body = std::shared_ptr<const std::string>(snapshot, &snapshot->jwks_body);
  return r;
}

http::Response discovery(const Call& call) {
  http::Response r = http::json_response(200, call.context.discovery_document);
  r.headers.emplace_back("Cache-Control", call.context.cache_control);
  return r;
}

http::Response liveness(const Call&) { return http::json_response(200, R"({"status":"ok"})"); }

// Ready means a token could be signed now: the HSM is connected and answers, the ring is known,
// its active key is in the token, and a signature has worked since the HSM last (re)connected.
http::Response readiness(const Call& call) {
  const ApiContext& context = call.context;
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
    http::Response r = http::json_response(503, nlohmann::json{{"status", "unavailable"}, {"reason", reason}}.dump());
    r.headers.emplace_back("Retry-After", std::to_string(std::max(1L, health.retry_after_seconds)));
    return r;
  }
  return http::json_response(200, R"({"status":"ready"})");
}

http::Response authorization_server_metadata(const Call& call) {
  http::Response r = http::json_response(200, call.context.authorization_server_metadata_document);
  r.headers.emplace_back("Cache-Control", call.context.cache_control);
  return r;
}

std::string render_discovery(const config::Config& config) { return oauth::openid_configuration(config).dump(); }

std::string ApiContext::render_authorization_server_metadata(const config::Config& config) {
  return oauth::authorization_server_metadata(config).dump();
}

}  // namespace signet::api
