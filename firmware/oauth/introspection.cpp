#include "firmware/oauth/introspection.h"

namespace signet::oauth {

nlohmann::ordered_json introspection_response(const verify::VerifyResult& result) {
  nlohmann::ordered_json answer;
  answer["active"] = result.valid && result.claims.is_object();
  if (!answer["active"].get<bool>()) return answer;
  for (const auto& [name, value] : result.claims.items()) {
    // The members RFC 7662 defines itself are never taken from the token.
    if (name == "active" || name == "token_type") continue;
    answer[name] = value;
  }
  if (!answer.contains("scope") && result.claims.contains("type") && result.claims["type"].is_string()) {
    answer["scope"] = result.claims["type"];
  }
  answer["token_type"] = "Bearer";
  return answer;
}

}  // namespace signet::oauth
