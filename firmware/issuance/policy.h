// Token requests and the policy that decides them: pure functions from a client's config, the
// profiles and a request to either a Grant (what exactly to sign) or a precise refusal.
// kInvalidArgument: the request itself is malformed (400). kPermissionDenied: well-formed,
// but beyond the client's policy (403). A ttl above a limit is refused, never cut.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "config/config.h"

namespace signet::issuance {

struct TokenRequest {
  std::string profile;
  std::string sub;
  std::optional<std::string> aud;
  std::optional<config::Seconds> ttl;
  nlohmann::ordered_json claims = nlohmann::ordered_json::object();
};

// Reads the body of POST /v1/tokens (already parsed strictly). Unknown members are refused.
Result<TokenRequest> parse_token_request(const nlohmann::ordered_json& body);

struct Grant {
  const config::Profile* profile = nullptr;
  std::string sub;
  std::string aud;
  config::Seconds ttl{0};
  nlohmann::ordered_json claims;  // only names from the client's allow-list
  std::optional<std::string> typ;  // the header's typ when not the profile's (access_token.h)
};

Result<Grant> decide(const config::Config& config, const config::Client& client, TokenRequest request);

// Whether aud matches one of the client's patterns: equal, or a prefix before a trailing '*'.
bool audience_allowed(const std::vector<std::string>& patterns, std::string_view aud);

}  // namespace signet::issuance
