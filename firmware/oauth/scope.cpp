#include "firmware/oauth/scope.h"

#include <algorithm>

namespace signet::oauth {
namespace {

bool is_scope_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
}

Error invalid(std::string message) { return make_error(Code::kInvalidArgument, std::move(message)); }

}  // namespace

Result<std::vector<std::string>> parse_scope(std::string_view text) {
  if (text.empty()) return invalid("scope is empty; leave it out to get the client's default profile");
  std::vector<std::string> tokens;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = std::min(text.find(' ', start), text.size());
    const std::string_view token = text.substr(start, end - start);
    if (token.empty()) return invalid("scope tokens are separated by single spaces, with none before or after");
    if (!std::all_of(token.begin(), token.end(), is_scope_char)) {
      return invalid("scope holds a character RFC 6749 does not allow in a scope token");
    }
    if (std::find(tokens.begin(), tokens.end(), token) == tokens.end()) tokens.emplace_back(token);
    if (end == text.size()) break;
    start = end + 1;
  }
  return tokens;
}

Result<std::string> profile_for_request(const config::Client& client, std::optional<std::string_view> scope,
                                        std::optional<std::string_view> profile) {
  if (scope) {
    auto tokens = parse_scope(*scope);
    if (!tokens.ok()) return tokens.error();
    if (tokens->size() > 1) {
      std::string names;
      for (const auto& t : *tokens) names += (names.empty() ? "" : ", ") + t;
      return invalid("scope names " + std::to_string(tokens->size()) + " profiles (" + names +
                     ") and a token has exactly one: ask for each in a request of its own");
    }
    if (profile && *profile != tokens->front()) return invalid("scope and profile name different profiles");
    return tokens->front();
  }
  if (profile) {
    if (profile->empty()) return invalid("profile is empty");
    return std::string(*profile);
  }
  if (client.profiles.empty()) return invalid("client \"" + client.id + "\" may use no profile");
  return client.profiles.front();
}

}  // namespace signet::oauth
