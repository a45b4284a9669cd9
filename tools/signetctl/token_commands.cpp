// hash-secret, jwks and token issue: what a client of the appliance needs.
#include <openssl/sha.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "tools/signetctl/cli.h"

namespace signet::ctl {

int hash_secret(const Args& args) {
  std::string line;
  std::getline(std::cin, line);
  SecretString secret(std::move(line));
  std::string_view key = secret.view();
  while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.remove_suffix(1);
  if (key.empty()) return failure("no API key on stdin");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  const std::string digest_hex = hex::encode(digest, sizeof digest);
  if (args.json) {
    std::printf("%s\n", nlohmann::json{{"api_key_sha256", digest_hex}}.dump().c_str());
  } else {
    std::printf("%s\n", digest_hex.c_str());
  }
  return 0;
}

int jwks(const Args& args) {
  const std::string base = args.base_url();
  if (base.empty()) return usage_error("jwks needs --url");
  auto answer = perform({"GET", base + "/.well-known/jwks.json", args.option("cacert"), {}, {}});
  if (!answer.ok()) return failure(answer.error().message);
  if (answer->status != 200) return failure("the server answered " + std::to_string(answer->status));
  const auto set = nlohmann::json::parse(answer->body, nullptr, false);
  if (!set.is_object() || !set.contains("keys") || !set["keys"].is_array()) return failure("the answer is not a JWKS");
  if (args.json) {
    std::printf("%s\n", set.dump(2).c_str());
    return 0;
  }
  for (const auto& key : set["keys"]) {
    std::printf("%s  %s  %s\n", key.value("kid", "?").c_str(), key.value("alg", "?").c_str(), key.value("kty", "?").c_str());
  }
  return 0;
}

int token_issue(const Args& args) {
  if (args.base_url().empty() || args.option("profile").empty() || args.option("sub").empty()) {
    return usage_error("token issue needs --url, --profile and --sub");
  }
  nlohmann::ordered_json request{{"profile", args.option("profile")}, {"sub", args.option("sub")}};
  if (!args.option("aud").empty()) request["aud"] = args.option("aud");
  if (!args.option("ttl").empty()) request["ttl"] = args.option("ttl");
  if (!args.option("claims").empty()) {
    const auto claims = nlohmann::ordered_json::parse(args.option("claims"), nullptr, false);
    if (!claims.is_object()) return usage_error("--claims must be a JSON object");
    request["claims"] = claims;
  }
  if (auto key = api_key(args); !key.ok()) return usage_error(key.error().message);
  auto answer = call_server(args, "POST", "/v1/tokens", request.dump());
  if (!answer.ok()) return failure(answer.error().message);
  const auto body = nlohmann::json::parse(*answer, nullptr, false);
  if (!body.is_object() || !body.contains("token")) return failure("the answer holds no token");
  std::printf("%s\n", args.json ? body.dump(2).c_str() : body["token"].get<std::string>().c_str());
  return 0;
}

}  // namespace signet::ctl
