// The authenticated issuance routes: POST /v1/tokens and the small POST /auth interface.
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strict_json.h"
#include "http/api.h"

namespace signet::http {
namespace {

constexpr int kMaxBodyDepth = 16;

Result<nlohmann::ordered_json> parse_json_body(const Request& request) {
  JsonError error;
  auto body = parse_strict_json(request.body, kMaxBodyDepth, &error);
  if (!body) return make_error(Code::kInvalidArgument, error.message);
  return std::move(*body);
}

Response token_answer(const issuance::IssuedToken& token, const issuance::Grant& grant) {
  nlohmann::ordered_json body;
  body["token"] = token.token;
  body["token_type"] = "Bearer";
  body["expires_in"] = grant.ttl.count();
  body["expires_at"] = token.expires_at;
  body["kid"] = token.kid;
  body["jti"] = token.jti;
  Response r = json_response(200, body.dump());
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

void log_issued(const config::Client& client, const issuance::Grant& grant, const issuance::IssuedToken& token) {
  log::info("token_issued", {{"client", client.id}, {"profile", grant.profile->name}, {"kid", token.kid},
                             {"jti", token.jti}});
}

Response issue_tokens(const ApiContext& context, const Request& request) {
  auto client = authenticate(context, request);
  if (!client.ok()) return error_response(client.error());
  if (!is_json_media_type(request.header("Content-Type"))) {
    return error_response(415, "unsupported_media_type", "the body must be application/json");
  }
  auto body = parse_json_body(request);
  if (!body.ok()) return error_response(body.error());
  auto parsed = issuance::parse_token_request(*body);
  if (!parsed.ok()) return error_response(parsed.error());
  auto grant = issuance::decide(context.config, **client, std::move(*parsed));
  if (!grant.ok()) return error_response(grant.error());
  auto token = context.issuer.issue((*client)->id, *grant);
  if (!token.ok()) return error_response(token.error());
  log_issued(**client, *grant, *token);
  return token_answer(*token, *grant);
}

// POST /auth: a token for the client itself (sub = its id) with its first profile. The body
// is not read. ?expired=true signs an already expired token, in test mode only.
Response issue_auth(const ApiContext& context, const Request& request) {
  auto client = authenticate(context, request);
  if (!client.ok()) return error_response(client.error());
  const auto expired = request.query("expired");
  if (expired && *expired != "true") {
    return error_response(make_error(Code::kInvalidArgument, "\"expired\" may only be \"true\""));
  }
  if (expired && !context.config.test_mode) {
    return error_response(make_error(Code::kPermissionDenied, "expired tokens are only signed in test mode"));
  }
  if ((*client)->profiles.empty()) {
    return error_response(make_error(Code::kPermissionDenied, "this client may use no profile"));
  }
  issuance::TokenRequest wanted;
  wanted.profile = (*client)->profiles.front();
  wanted.sub = (*client)->id;
  auto grant = issuance::decide(context.config, **client, std::move(wanted));
  if (!grant.ok()) return error_response(grant.error());
  auto token = expired ? context.issuer.issue_expired((*client)->id, *grant) : context.issuer.issue((*client)->id, *grant);
  if (!token.ok()) return error_response(token.error());
  log_issued(**client, *grant, *token);
  Response r = json_response(200, nlohmann::json{{"token", token->token}}.dump());
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace

bool is_json_media_type(std::optional<std::string_view> content_type) {
  if (!content_type) return false;
  std::string_view type = content_type->substr(0, content_type->find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  constexpr std::string_view kJson = "application/json";
  if (type.size() != kJson.size()) return false;
  for (std::size_t i = 0; i < type.size(); ++i) {
    const char c = type[i];
    if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != kJson[i]) return false;  // media types are case-insensitive
  }
  return true;
}

Result<Caller> authenticate(const ApiContext& context, const Request& request) {
  using Reason = limits::AuthFailures::Reason;
  const limits::Address from = peer_address(request);
  if (Status open = check_auth_backoff(context, from); !open.ok()) return open.error();
  auto table = context.clients.current();
  // A presented API key decides alone: a wrong key is refused even over a good certificate.
  const config::Client* client = nullptr;
  Reason reason = Reason::kMissing;
  if (const auto header = request.header("Authorization")) {
    client = table->registry().authenticate_bearer(*header);
    reason = auth::is_bearer(*header) ? Reason::kUnknownKey : Reason::kMalformed;
  } else if (const auto subject = request.peer_subject()) {
    client = table->registry().authenticate_certificate(*subject);
    reason = Reason::kUnknownCertificate;
  }
  if (!client) {
    note_auth_failure(context, request, from, reason);
    return make_error(Code::kUnauthenticated, "missing or unknown client credentials");
  }
  return admit(std::move(table), *client);
}

Result<Caller> admit(std::shared_ptr<const auth::ClientTable> table, const config::Client& client) {
  const auto decision = table->admit(client, limits::RateLimiter::Clock::now());
  if (!decision.allowed) {
    Error error = make_error(Code::kRateLimited, "client \"" + client.id + "\" is over its request rate");
    error.retry_after_seconds = decision.retry_after_seconds;
    return error;
  }
  return Caller(std::move(table), &client);  // shares the table's ownership
}

void add_token_routes(Router& router, const ApiContext& context) {
  const auto* c = &context;
  router.add("POST", "/v1/tokens", [c](const Request& r) { return issue_tokens(*c, r); });
  router.add("POST", "/auth", [c](const Request& r) { return issue_auth(*c, r); });
}

}  // namespace signet::http
