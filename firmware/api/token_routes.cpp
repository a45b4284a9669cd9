// The authenticated issuance routes: POST /v1/tokens and the small POST /auth interface.
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "base/log.h"
#include "base/strict_json.h"
#include "firmware/api/handed_out.h"
#include "firmware/api/handlers.h"

namespace signet::api {
namespace {

constexpr int kMaxBodyDepth = 16;

Result<nlohmann::ordered_json> parse_json_body(const http::Request& request) {
  JsonError error;
  auto body = parse_strict_json(request.body, kMaxBodyDepth, &error);
  if (!body) return make_error(Code::kInvalidArgument, error.message);
  return std::move(*body);
}

http::Response token_answer(const issuance::IssuedToken& token, const issuance::Grant& grant) {
  std::string body;
  json_text::Object answer(body);
  answer.string("token", token.token)
      .string("token_type", "Bearer")
      .number("expires_in", grant.ttl.count())
      .number("expires_at", token.expires_at)
      .string("kid", token.kid)
      .string("jti", token.jti)
      .close();
  http::Response r = http::json_response(200, std::move(body));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

void log_issued(const std::string& client, const issuance::Grant& grant, const issuance::IssuedToken& token) {
  log::info("token_issued", {{"client", client}, {"profile", grant.profile->name}, {"kid", token.kid},
                             {"jti", token.jti}});
}

}  // namespace

http::Response issue_token(const Call& call) {
  const config::Client& client = *call.caller;
  if (!http::is_media_type(call.request.header("Content-Type"), http::kJsonMediaType)) {
    return http::error_response(415, "unsupported_media_type", "the body must be application/json");
  }
  auto body = parse_json_body(call.request);
  if (!body.ok()) return http::error_response(body.error());
  auto parsed = issuance::parse_token_request(*body);
  if (!parsed.ok()) return http::error_response(parsed.error());
  auto grant = issuance::decide(call.context.config, client, std::move(*parsed));
  if (!grant.ok()) return http::error_response(grant.error());
  auto token = call.context.issuer.issue(client.id, *grant);
  if (!token.ok()) return http::error_response(token.error());
  return hand_out(call.context.issuer, std::move(*token),
                  [client = client.id, grant = std::move(*grant)](const issuance::IssuedToken& issued) {
                    log_issued(client, grant, issued);
                    return token_answer(issued, grant);
                  });
}

// POST /auth: a token for the client itself (sub = its id) with its first profile. The body
// is not read. ?expired=true signs an already expired token, in test mode only.
http::Response issue_auth(const Call& call) {
  const config::Client& client = *call.caller;
  const auto expired = call.request.query("expired");
  if (expired && *expired != "true") {
    return http::error_response(make_error(Code::kInvalidArgument, "\"expired\" may only be \"true\""));
  }
  if (expired && !call.context.config.test_mode) {
    return http::error_response(make_error(Code::kPermissionDenied, "expired tokens are only signed in test mode"));
  }
  if (client.profiles.empty()) {
    return http::error_response(make_error(Code::kPermissionDenied, "this client may use no profile"));
  }
  issuance::TokenRequest wanted;
  wanted.profile = client.profiles.front();
  wanted.sub = client.id;
  auto grant = issuance::decide(call.context.config, client, std::move(wanted));
  if (!grant.ok()) return http::error_response(grant.error());
  const issuance::Issuer& issuer = call.context.issuer;
  auto token = expired ? issuer.issue_expired(client.id, *grant) : issuer.issue(client.id, *grant);
  if (!token.ok()) return http::error_response(token.error());
  return hand_out(issuer, std::move(*token), [client = client.id, grant = std::move(*grant)](const issuance::IssuedToken& issued) {
    log_issued(client, grant, issued);
    std::string body;
    json_text::Object(body).string("token", issued.token).close();
    http::Response r = http::json_response(200, std::move(body));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  });
}

}  // namespace signet::api
