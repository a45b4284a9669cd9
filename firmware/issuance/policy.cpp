#include "firmware/issuance/policy.h"

#include <algorithm>

namespace signet::issuance {
namespace {

constexpr std::size_t kMaxSubBytes = 256;
constexpr std::size_t kMaxAudBytes = 256;

Error invalid(std::string message) { return make_error(Code::kInvalidArgument, std::move(message)); }
Error denied(std::string message) { return make_error(Code::kPermissionDenied, std::move(message)); }

std::string seconds_text(config::Seconds s) { return std::to_string(s.count()) + "s"; }

}  // namespace

Result<TokenRequest> parse_token_request(const nlohmann::ordered_json& body) {
  if (!body.is_object()) return invalid("the body must be a JSON object");
  TokenRequest request;
  for (const auto& [name, value] : body.items()) {
    if (name == "profile" || name == "sub" || name == "aud") {
      if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
        return invalid("\"" + name + "\" must be a non-empty string");
      }
      const auto& text = value.get_ref<const std::string&>();
      if (name == "profile") request.profile = text;
      if (name == "sub") {
        if (text.size() > kMaxSubBytes) return invalid("\"sub\" is longer than 256 bytes");
        request.sub = text;
      }
      if (name == "aud") {
        if (text.size() > kMaxAudBytes) return invalid("\"aud\" is longer than 256 bytes");
        request.aud = text;
      }
    } else if (name == "ttl") {
      const auto ttl = value.is_string() ? config::parse_duration(value.get_ref<const std::string&>()) : std::nullopt;
      if (!ttl) return invalid("\"ttl\" must be a duration such as \"10m\"");
      request.ttl = ttl;
    } else if (name == "claims") {
      if (!value.is_object()) return invalid("\"claims\" must be a JSON object");
      request.claims = value;
    } else {
      return invalid("unknown member \"" + name + "\"; expected profile, sub, aud, ttl, claims");
    }
  }
  if (request.profile.empty()) return invalid("\"profile\" is required");
  if (request.sub.empty()) return invalid("\"sub\" is required");
  return request;
}

bool audience_allowed(const std::vector<std::string>& patterns, std::string_view aud) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
    if (!p.empty() && p.back() == '*') return aud.substr(0, p.size() - 1) == std::string_view(p).substr(0, p.size() - 1);
    return aud == p;
  });
}

Result<Grant> decide(const config::Config& config, const config::Client& client, TokenRequest request) {
  const config::Profile* profile = config.find_profile(request.profile);
  if (!profile) return invalid("unknown profile \"" + request.profile + "\"");
  if (std::find(client.profiles.begin(), client.profiles.end(), profile->name) == client.profiles.end()) {
    return denied("client \"" + client.id + "\" may not use profile \"" + profile->name + "\"");
  }

  Grant grant;
  grant.profile = profile;
  grant.sub = std::move(request.sub);

  // The profile's own audience comes with the profile; any other must be in the client's list.
  if (request.aud) {
    if (*request.aud != profile->audience && !audience_allowed(client.audiences, *request.aud)) {
      return denied("client \"" + client.id + "\" may not ask for audience \"" + *request.aud + "\"");
    }
    grant.aud = *request.aud;
  } else if (profile->audience) {
    grant.aud = *profile->audience;
  } else {
    return invalid("\"aud\" is required: profile \"" + profile->name + "\" names no audience");
  }

  // Without a ttl the profile's applies, within the client's max_ttl; a requested one above
  // either limit is refused rather than cut, so the caller never holds a shorter token unawares.
  const config::Seconds limit = client.max_ttl ? std::min(profile->ttl, *client.max_ttl) : profile->ttl;
  if (request.ttl) {
    if (*request.ttl > limit) {
      return denied("ttl " + seconds_text(*request.ttl) + " is above the limit of " + seconds_text(limit) +
                    " for profile \"" + profile->name + "\"");
    }
    grant.ttl = *request.ttl;
  } else {
    grant.ttl = limit;
  }

  for (const auto& [name, value] : request.claims.items()) {
    if (config::is_reserved_claim(name)) return denied("claim \"" + name + "\" is set by Signet, not by clients");
    if (std::find(client.claims.begin(), client.claims.end(), name) == client.claims.end()) {
      return denied("client \"" + client.id + "\" may not set claim \"" + name + "\"");
    }
  }
  grant.claims = std::move(request.claims);
  return grant;
}

}  // namespace signet::issuance
