// POST /oauth2/token: the OAuth 2.0 client credentials grant (RFC 6749 §4.4), so that any
// OAuth2 client library can get a token. The client authenticates with HTTP Basic (id and API
// key, RFC 6749 §2.3.1) or its mTLS certificate; errors follow RFC 6749 §5.2.
#include <openssl/evp.h>

#include <map>
#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "base/log.h"
#include "base/secret.h"
#include "http/api.h"

namespace signet::http {
namespace {

Response oauth_error(unsigned status, std::string_view error, std::string_view description) {
  Response r = json_response(status, nlohmann::json{{"error", error}, {"error_description", description}}.dump());
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"signet\"");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// application/x-www-form-urlencoded decoding of one name or value.
std::optional<std::string> form_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex::digit_value(text[i + 1]), lo = hex::digit_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// The form's parameters; nullopt when malformed or when one is repeated (RFC 6749 §3.2).
std::optional<std::map<std::string, std::string>> parse_form(std::string_view body) {
  std::map<std::string, std::string> form;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = form_decode(pair.substr(0, eq));
    auto value = form_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!name || !value || !form.emplace(std::move(*name), std::move(*value)).second) return std::nullopt;
  }
  return form;
}

// Who HTTP Basic names and whether the secret is theirs; `id` is set as soon as the header
// can be read, so that a failure counts against the client id it tried.
struct BasicOutcome {
  const config::Client* client = nullptr;
  std::string id;
  limits::AuthFailures::Reason reason = limits::AuthFailures::Reason::kMalformed;
};

// "Basic base64(id:secret)", each half form-encoded.
BasicOutcome authenticate_basic(const auth::ClientRegistry& registry, std::string_view header) {
  BasicOutcome outcome;
  if (header.size() < 7 || (header.substr(0, 6) != "Basic " && header.substr(0, 6) != "basic ")) return outcome;
  const std::string_view encoded = header.substr(6);
  if (encoded.empty() || encoded.size() > 2048 || encoded.size() % 4) return outcome;
  std::string decoded(encoded.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                reinterpret_cast<const unsigned char*>(encoded.data()), static_cast<int>(encoded.size()));
  if (n < 0) return outcome;
  decoded.resize(static_cast<std::size_t>(n) - (encoded.back() == '=') - (encoded.size() > 1 && encoded[encoded.size() - 2] == '='));
  SecretString credentials(std::move(decoded));
  const auto colon = credentials.view().find(':');
  if (colon == std::string_view::npos) return outcome;
  auto id = form_decode(credentials.view().substr(0, colon));
  auto secret = form_decode(credentials.view().substr(colon + 1));
  if (!id || !secret) return outcome;
  SecretString wiped(std::move(*secret));
  outcome.id = std::move(*id);
  outcome.reason = limits::AuthFailures::Reason::kWrongSecret;
  outcome.client = registry.authenticate_secret(outcome.id, wiped.view());
  return outcome;
}

Response token(const ApiContext& context, const Request& request) {
  const limits::Address from = peer_address(request);
  if (Status open = check_auth_backoff(context, from); !open.ok()) return error_response(open.error());
  auto table = context.clients.current();
  const config::Client* found = nullptr;
  if (const auto header = request.header("Authorization")) {
    const BasicOutcome basic = authenticate_basic(table->registry(), *header);
    found = basic.client;
    if (!found) note_auth_failure(context, request, from, basic.reason, basic.id);
  } else if (const auto subject = request.peer_subject()) {
    found = table->registry().authenticate_certificate(*subject);
    if (!found) note_auth_failure(context, request, from, limits::AuthFailures::Reason::kUnknownCertificate);
  } else {
    note_auth_failure(context, request, from, limits::AuthFailures::Reason::kMissing);
  }
  if (!found) return oauth_error(401, "invalid_client", "unknown client or wrong credentials");
  auto admitted = admit(std::move(table), *found);
  if (!admitted.ok()) return error_response(admitted.error());
  const Caller& client = *admitted;

  const auto type = request.header("Content-Type");
  if (!type || type->substr(0, 33) != "application/x-www-form-urlencoded") {
    return oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
  }
  const auto form = parse_form(request.body);
  if (!form) return oauth_error(400, "invalid_request", "the form is malformed or repeats a parameter");
  const auto field = [&](const char* name) -> std::optional<std::string> {
    const auto it = form->find(name);
    return it == form->end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  const auto grant_type = field("grant_type");
  if (!grant_type) return oauth_error(400, "invalid_request", "grant_type is required");
  if (*grant_type != "client_credentials") return oauth_error(400, "unsupported_grant_type", "only client_credentials is supported");

  // The scope, when given, names the profile; `profile` may name it too, but not differently.
  issuance::TokenRequest wanted;
  const auto scope = field("scope"), profile = field("profile");
  if (scope && profile && *scope != *profile) return oauth_error(400, "invalid_scope", "scope and profile disagree");
  wanted.profile = scope ? *scope : profile ? *profile : client->profiles.empty() ? "" : client->profiles.front();
  wanted.sub = client->id;
  wanted.aud = field("audience");
  if (wanted.profile.empty()) return oauth_error(400, "invalid_scope", "this client may use no profile");
  auto grant = issuance::decide(context.config, *client, std::move(wanted));
  if (!grant.ok()) return oauth_error(400, "invalid_scope", grant.error().message);
  auto issued = context.issuer.issue(client->id, *grant);
  if (!issued.ok()) return error_response(issued.error());
  log::info("token_issued", {{"client", client->id}, {"profile", grant->profile->name}, {"kid", issued->kid},
                             {"jti", issued->jti}, {"grant", "client_credentials"}});
  nlohmann::ordered_json body{{"access_token", issued->token}, {"token_type", "Bearer"},
                              {"expires_in", grant->ttl.count()}, {"scope", grant->profile->name}};
  Response r = json_response(200, body.dump());
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Pragma", "no-cache");
  return r;
}

}  // namespace

void add_oauth_routes(Router& router, const ApiContext& context) {
  const auto* c = &context;
  router.add("POST", "/oauth2/token", [c](const Request& r) { return token(*c, r); });
}

}  // namespace signet::http
