// The public routes: the JWKS, OIDC discovery and health. No credentials, no HSM on the path
// of the JWKS: it answers from the ring's pre-rendered bytes.
#include <nlohmann/json.hpp>

#include "http/api.h"

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

Response jwks(const ApiContext& context, const Request& request) {
  const auto snapshot = context.ring.snapshot();
  Response r;
  r.headers.emplace_back("ETag", snapshot->etag);
  r.headers.emplace_back("Cache-Control", "public, max-age=" + std::to_string(context.config.jwks_max_age.count()));
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

Response readiness(const ApiContext& context) {
  if (auto health = context.hsm.check_health(); !health.ok()) {
    Response r = json_response(503, nlohmann::json{{"status", "unavailable"}, {"reason", "the HSM does not answer"}}.dump());
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  return json_response(200, R"({"status":"ready"})");
}

}  // namespace

std::string render_discovery(const config::Config& config) {
  std::string base = config.issuer;
  while (!base.empty() && base.back() == '/') base.pop_back();
  nlohmann::ordered_json doc;
  doc["issuer"] = config.issuer;
  doc["jwks_uri"] = base + "/.well-known/jwks.json";
  doc["token_endpoint"] = base + "/v1/tokens";
  doc["response_types_supported"] = {"token"};
  doc["subject_types_supported"] = {"public"};
  doc["id_token_signing_alg_values_supported"] = {config.keys.algorithm};
  doc["token_endpoint_auth_methods_supported"] = {"client_secret_bearer"};
  return doc.dump();
}

void add_public_routes(Router& router, const ApiContext& context) {
  const auto* c = &context;
  router.add("GET", "/.well-known/jwks.json", [c](const Request& r) { return jwks(*c, r); });
  router.add("GET", "/jwks", [c](const Request& r) { return jwks(*c, r); });
  router.add("GET", "/.well-known/openid-configuration", [c](const Request&) {
    Response r = json_response(200, c->discovery_document);
    r.headers.emplace_back("Cache-Control", "public, max-age=" + std::to_string(c->config.jwks_max_age.count()));
    return r;
  });
  router.add("GET", "/healthz", [](const Request&) { return json_response(200, R"({"status":"ok"})"); });
  router.add("GET", "/readyz", [c](const Request&) { return readiness(*c); });
}

Router make_router(const ApiContext& context) {
  Router router;
  add_public_routes(router, context);
  add_token_routes(router, context);
  return router;
}

}  // namespace signet::http
