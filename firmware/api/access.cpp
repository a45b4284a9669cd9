// The access column of the route table, checked before any handler runs: credentials (an API
// key as Bearer or in HTTP Basic, or a verified client certificate), the backoff of an address
// that failed to authenticate too often, the count and log line of each failure, and the
// client's rate limit.
#include "firmware/api/access.h"

#include <openssl/evp.h>

#include "base/log.h"
#include "base/secret.h"
#include "firmware/oauth/form.h"
#include "firmware/api/oauth_error.h"

namespace signet::api {
namespace {

using Reason = limits::AuthFailures::Reason;

// The client's address as the failure counts key it.
limits::Address peer_address(const http::Request& request) {
  return limits::Address::from_bytes(request.peer_address().value_or(std::string_view()));
}

// kRateLimited (429 with Retry-After) while the address is in backoff for failed
// authentications: asked before any credential is checked, so that a guess is not testable.
Status check_backoff(const ApiContext& context, const limits::Address& from) {
  const auto decision = context.auth_failures->admit(from, limits::AuthFailures::Clock::now());
  if (decision.allowed) return ok_status();
  Error error = make_error(Code::kRateLimited, "too many failed authentications from this address; retry later");
  error.retry_after_seconds = decision.retry_after_seconds;
  return error;
}

// Counts, and logs (address, route, reason, and the client id HTTP Basic named; never the
// credential), one failed authentication.
void note_failure(const ApiContext& context, const http::Request& request, const limits::Address& from, Reason reason,
                  std::string_view client_id = {}) {
  client_id = client_id.substr(0, 64);  // what the caller named, bounded; never the secret
  const auto now = limits::AuthFailures::Clock::now();
  const auto decision = context.auth_failures->record(reason, from, client_id, now);
  const std::string address = from.to_string();
  const std::string route = std::string(request.method) + " " + std::string(request.path.substr(0, 128));
  log::warn("auth_failed", {{"address", address}, {"route", route},
                            {"reason", limits::AuthFailures::reason_name(reason)}, {"client", client_id}});
  if (!decision.allowed) {
    log::warn("auth_backoff", {{"address", address}, {"retry_after_seconds", std::to_string(decision.retry_after_seconds)}});
  }
}

// Who a credential names, and why not when it names no one.
struct Presented {
  const config::Client* client = nullptr;
  Reason reason = Reason::kMissing;
  std::string id;  // the client id HTTP Basic named, as soon as the header could be read
};

// "Basic base64(id:secret)", each half form-encoded.
Presented basic(const auth::ClientRegistry& registry, std::string_view header) {
  Presented outcome{nullptr, Reason::kMalformed, {}};
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
  auto id = oauth::form_decode(credentials.view().substr(0, colon));
  auto secret = oauth::form_decode(credentials.view().substr(colon + 1));
  if (!id || !secret) return outcome;
  SecretString wiped(std::move(*secret));
  outcome.id = std::move(*id);
  outcome.reason = Reason::kWrongSecret;
  outcome.client = registry.authenticate_secret(outcome.id, wiped.view());
  return outcome;
}

// The credential of the request, by the scheme the route takes. A presented Authorization
// header decides alone: a wrong key is refused even over a good certificate.
Presented present(const auth::ClientRegistry& registry, const http::Request& request, Access access) {
  if (const auto header = request.header("Authorization")) {
    if (access == Access::kOAuthClient) return basic(registry, *header);
    return {registry.authenticate_bearer(*header), auth::is_bearer(*header) ? Reason::kUnknownKey : Reason::kMalformed, {}};
  }
  if (const auto subject = request.peer_subject()) {
    return {registry.authenticate_certificate(*subject), Reason::kUnknownCertificate, {}};
  }
  return {};
}

// The client's rate limit: `client` is one of table's clients.
Result<Caller> within_rate(std::shared_ptr<const auth::ClientTable> table, const config::Client& client) {
  const auto decision = table->admit(client, limits::RateLimiter::Clock::now());
  if (!decision.allowed) {
    Error error = make_error(Code::kRateLimited, "client \"" + client.id + "\" is over its request rate");
    error.retry_after_seconds = decision.retry_after_seconds;
    return error;
  }
  return Caller(std::move(table), &client);  // shares the table's ownership
}

}  // namespace

std::shared_ptr<limits::AuthFailures> ApiContext::make_auth_failures(const config::Limits& limits) {
  limits::AuthFailures::Options options;
  options.threshold = limits.auth_failures_per_address;
  options.max_backoff = limits.max_auth_backoff;
  return std::make_shared<limits::AuthFailures>(options);
}

Result<Caller> admit(const ApiContext& context, const http::Request& request, Access access) {
  if (access == Access::kPublic) return Caller();
  const limits::Address from = peer_address(request);
  if (Status open = check_backoff(context, from); !open.ok()) return open.error();
  auto table = context.clients.current();
  const Presented presented = present(table->registry(), request, access);
  if (!presented.client) {
    note_failure(context, request, from, presented.reason, presented.id);
    return make_error(Code::kUnauthenticated, access == Access::kOAuthClient ? "unknown client or wrong credentials"
                                                                            : "missing or unknown client credentials");
  }
  auto caller = within_rate(std::move(table), *presented.client);
  if (caller.ok() && access == Access::kAdmin && !(*caller)->admin) {
    return make_error(Code::kPermissionDenied, "only admin clients manage keys");
  }
  return caller;
}

http::Response refusal(Access access, const Error& error) {
  if (access == Access::kOAuthClient && error.code == Code::kUnauthenticated) {
    return oauth_error(401, "invalid_client", error.message);
  }
  return http::error_response(error);
}

}  // namespace signet::api
