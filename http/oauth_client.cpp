#include "http/oauth_client.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "base/secret.h"
#include "firmware/oauth/form.h"

namespace signet::http {
namespace {

// Who HTTP Basic names and whether the secret is theirs; `id` is set as soon as the header
// can be read, so that a failure counts against the client id it tried.
struct BasicOutcome {
  const config::Client* client = nullptr;
  std::string id;
  limits::AuthFailures::Reason reason = limits::AuthFailures::Reason::kMalformed;
};

// "Basic base64(id:secret)", each half form-encoded (RFC 6749 §2.3.1).
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
  auto id = oauth::form_decode(credentials.view().substr(0, colon));
  auto secret = oauth::form_decode(credentials.view().substr(colon + 1));
  if (!id || !secret) return outcome;
  SecretString wiped(std::move(*secret));
  outcome.id = std::move(*id);
  outcome.reason = limits::AuthFailures::Reason::kWrongSecret;
  outcome.client = registry.authenticate_secret(outcome.id, wiped.view());  // constant time
  return outcome;
}

}  // namespace

Result<Caller> authenticate_oauth_client(const ApiContext& context, const Request& request) {
  const limits::Address from = peer_address(request);
  if (Status open = check_auth_backoff(context, from); !open.ok()) return open.error();
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
  if (!found) return make_error(Code::kUnauthenticated, "unknown client or wrong credentials");
  return admit(std::move(table), *found);
}

Response oauth_error(unsigned status, std::string_view error, std::string_view description) {
  Response r = json_response(status, nlohmann::json{{"error", error}, {"error_description", description}}.dump());
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"signet\"");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response oauth_refusal(const Error& error) {
  if (error.code == Code::kUnauthenticated) return oauth_error(401, "invalid_client", error.message);
  return error_response(error);
}

}  // namespace signet::http
