// POST /oauth2/token: the OAuth 2.0 client credentials grant (RFC 6749 §4.4), so that any
// OAuth2 client library can get a token, a JWT access token of RFC 9068. The route's access
// (Access::kOAuthClient) has authenticated the client with HTTP Basic (id and API key, RFC 6749
// §2.3.1) or its mTLS certificate; errors follow RFC 6749 §5.2.
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "base/log.h"
#include "firmware/api/handed_out.h"
#include "firmware/api/handlers.h"
#include "firmware/api/oauth_error.h"
#include "firmware/issuance/access_token.h"
#include "firmware/oauth/form.h"
#include "firmware/oauth/scope.h"

namespace signet::api {

http::Response oauth_token(const Call& call) {
  const config::Client& client = *call.caller;
  if (!http::is_media_type(call.request.header("Content-Type"), http::kFormMediaType)) {
    return oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
  }
  const auto form = oauth::parse_form(call.request.body);
  if (!form) return oauth_error(400, "invalid_request", "the form is malformed or repeats a parameter");
  const auto field = [&](const char* name) -> std::optional<std::string> {
    const auto it = form->find(name);
    return it == form->end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  const auto grant_type = field("grant_type");
  if (!grant_type) return oauth_error(400, "invalid_request", "grant_type is required");
  if (*grant_type != "client_credentials") return oauth_error(400, "unsupported_grant_type", "only client_credentials is supported");

  // Each scope token names a profile, and one token has one profile (firmware/oauth/scope.h).
  auto profile = oauth::profile_for_request(client, field("scope"), field("profile"));
  if (!profile.ok()) return oauth_error(400, "invalid_scope", profile.error().message);
  issuance::TokenRequest wanted;
  wanted.profile = *profile;
  wanted.sub = client.id;
  wanted.aud = field("audience");
  auto grant = issuance::decide(call.context.config, client, std::move(wanted));
  if (!grant.ok()) return oauth_error(400, "invalid_scope", grant.error().message);
  issuance::make_access_token(*grant, client.id);
  auto issued = call.context.issuer.issue(client.id, *grant);
  if (!issued.ok()) return http::error_response(issued.error());
  return hand_out(call.context.issuer, std::move(*issued),
                  [client = client.id, grant = std::move(*grant)](const issuance::IssuedToken& token) {
                    log::info("token_issued", {{"client", client}, {"profile", grant.profile->name},
                                               {"kid", token.kid}, {"jti", token.jti}, {"grant", "client_credentials"}});
                    std::string body;
                    json_text::Object(body)
                        .string("access_token", token.token)
                        .string("token_type", "Bearer")
                        .number("expires_in", grant.ttl.count())
                        .string("scope", grant.profile->name)
                        .close();
                    http::Response r = http::json_response(200, std::move(body));
                    r.headers.emplace_back("Cache-Control", "no-store");
                    r.headers.emplace_back("Pragma", "no-cache");
                    return r;
                  });
}

}  // namespace signet::api
