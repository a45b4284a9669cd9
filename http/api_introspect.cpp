// POST /oauth2/introspect: token introspection as RFC 7662 defines it, so that any OAuth 2.0
// resource server library can ask about a token. The caller authenticates as at the token
// endpoint. The answer is `{"active": false}` and nothing more for any token that does not
// verify: the reason goes to the log (token_inactive), since a caller holding a stolen or
// forged token must learn nothing from it. POST /v1/verify stays for callers that want why.
#include "base/log.h"
#include "firmware/oauth/form.h"
#include "firmware/oauth/introspection.h"
#include "http/oauth_client.h"

namespace signet::http {
namespace {

Response introspect(const ApiContext& context, const Request& request) {
  auto client = authenticate_oauth_client(context, request);
  if (!client.ok()) return oauth_refusal(client.error());
  if (!oauth::is_form_media_type(request.header("Content-Type"))) {
    return oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
  }
  const auto form = oauth::parse_form(request.body);
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
    log::info("token_inactive", {{"client", (*client)->id}, {"route", "POST /oauth2/introspect"},
                                 {"reason", verify::to_string(result.reason)}});
  }
  const auto answer = oauth::introspection_response(result);
  Response r = json_response(200, answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace

void add_introspect_routes(Router& router, const ApiContext& context) {
  const auto* c = &context;
  router.add("POST", "/oauth2/introspect", [c](const Request& r) { return introspect(*c, r); });
}

}  // namespace signet::http
