// keys list | rotate | revoke KID: the key ring, through the admin routes.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "firmware/jose/base64url.h"
#include "tools/signetctl/cli.h"

namespace signet::ctl {
namespace {

void print_keys(const nlohmann::json& body) {
  std::printf("%-44s %-8s %-6s %12s %12s\n", "KID", "STATE", "ALG", "CREATED", "SIGNED");
  for (const auto& k : body.value("keys", nlohmann::json::array())) {
    std::printf("%-44s %-8s %-6s %12lld %12llu\n", k.value("kid", "").c_str(), k.value("state", "").c_str(),
                k.value("alg", "").c_str(), static_cast<long long>(k.value("created_at", 0LL)),
                static_cast<unsigned long long>(k.value("tokens_signed", 0ULL)));
  }
  if (body.contains("rotation_held")) std::printf("rotation held: %s\n", body["rotation_held"].get<std::string>().c_str());
}

}  // namespace

int keys(const Args& args) {
  const std::string action = args.words.size() > 1 ? args.words[1] : "";
  if (args.base_url().empty()) return usage_error("keys needs --url");
  std::string method = "POST", path;
  if ((action == "list" || action == "rotate") && args.words.size() > 2) {
    return usage_error("'keys " + action + "' takes no operand '" + args.words[2] + "'");
  }
  if (action == "list") {
    method = "GET";
    path = "/v1/keys";
  } else if (action == "rotate") {
    path = "/v1/keys/rotate";
  } else if (action == "revoke" && args.words.size() == 3) {
    // A key id is base64url, which is also what keeps it one segment of the path.
    const std::string& kid = args.words[2];
    if (kid.empty() || !jose::base64url_decode(kid)) return usage_error("'" + kid + "' is not a key id");
    path = "/v1/keys/" + kid + "/revoke";
  } else {
    return usage_error("keys takes list, rotate or revoke KID");
  }
  if (auto key = api_key(args); !key.ok()) return usage_error(key.error().message);
  auto answer = call_server(args, method, path);
  if (!answer.ok()) return failure(answer.error().message);
  const auto body = nlohmann::json::parse(*answer, nullptr, false);
  if (!body.is_object()) return failure("the answer is not JSON");
  if (args.json) {
    std::printf("%s\n", body.dump(2).c_str());
  } else {
    print_keys(body);
  }
  // A rotation or revocation that did not happen in time is not a success.
  if (body.value("rotated", true) == false) return failure("the rotation is recorded but not done yet");
  if (body.value("revoked", true) == false) return failure("the revocation is recorded but not done yet");
  return 0;
}

}  // namespace signet::ctl
