// POST /oauth2/introspect: token introspection as RFC 7662 defines it, so that any OAuth 2.0
// resource server library can ask about a token. The route's access (Access::kOAuthClient) has
// authenticated the caller as at the token endpoint. The answer is `{"active": false}` and
// nothing more for any token that does not verify: the reason goes to the log (token_inactive),
// since a caller holding a stolen or forged token must learn nothing from it. POST /v1/verify
// stays for callers that want why.
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "firmware/api/handlers.h"
#include "firmware/api/oauth_error.h"
#include "firmware/oauth/form.h"
#include "firmware/oauth/introspection.h"

namespace signet::api {

http::Response oauth_introspect(const Call& call) {
  const ApiContext& context = call.context;
  if (!http::is_media_type(call.request.header("Content-Type"), http::kFormMediaType)) {
    return oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
  }
  const auto form = oauth::parse_form(call.request.body);
  if (!form) return oauth_error(400, "invalid_request", "the form is malformed or repeats a parameter");
  const auto token = form->find("token");
  if (token == form->end()) return oauth_error(400, "invalid_request", "token is required");
  // token_type_hint (RFC 7662 §2.1) may be ignored: every token Signet knows is an access token.

  verify::Expectations expect;
  expect.issuer = context.config.issuer;
  expect.leeway_seconds = context.config.verify_leeway.count();
  const auto snapshot = context.ring.snapshot();
  const auto result = verify::verify(snapshot->verifier_keys, token->second, expect);
  if (!result.valid) {
    log::info("token_inactive", {{"client", call.caller->id}, {"route", "POST /oauth2/introspect"},
                                 {"reason", verify::to_string(result.reason)}});
  }
  const auto answer = oauth::introspection_response(result);
  http::Response r = http::json_response(200, answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace signet::api
