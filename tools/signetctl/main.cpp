// signetctl: the operator's tool. Each verb is a small function; errors are one line on
// stderr starting with "signetctl:", and exit codes follow docs/API.md (2 usage, 1 failure).
#include <openssl/sha.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/secret.h"
#include "tools/signetctl/https_client.h"

namespace signet::ctl {
namespace {

constexpr const char* kUsage =
    "usage: signetctl [--json] VERB ...\n"
    "  hash-secret                       read an API key on stdin, print its SHA-256 for the config\n"
    "  jwks --url BASE [--cacert FILE]   print the published keys\n"
    "  token issue --url BASE --profile P --sub S [--aud A] [--ttl T] [--claims JSON] [--cacert FILE]\n"
    "                                    get a token; the API key comes from $SIGNET_API_KEY or --api-key-file FILE\n";

struct Args {
  std::vector<std::string> words;
  std::map<std::string, std::string> options;
  bool json = false;
};

int usage_error(const std::string& why) {
  std::fprintf(stderr, "signetctl: %s\n%s", why.c_str(), kUsage);
  return 2;
}

int failure(const std::string& why) {
  std::fprintf(stderr, "signetctl: %s\n", why.c_str());
  return 1;
}

bool parse_args(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      args.json = true;
    } else if (arg.rfind("--", 0) == 0) {
      if (i + 1 >= argc) return false;
      args.options[arg.substr(2)] = argv[++i];
    } else {
      args.words.push_back(arg);
    }
  }
  return true;
}

std::string option(const Args& args, const std::string& name) {
  const auto it = args.options.find(name);
  return it == args.options.end() ? std::string() : it->second;
}

std::string trim_base(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The server's error answer as one sentence, never echoing what was sent.
std::string describe_failure(const HttpAnswer& answer) {
  const auto body = nlohmann::json::parse(answer.body, nullptr, false);
  std::string text = "the server answered " + std::to_string(answer.status);
  if (body.is_object() && body.contains("error_description") && body["error_description"].is_string()) {
    text += ": " + body["error_description"].get<std::string>();
  }
  return text;
}

int hash_secret(const Args& args) {
  std::string line;
  std::getline(std::cin, line);
  SecretString secret(std::move(line));
  std::string_view key = secret.view();
  while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.remove_suffix(1);
  if (key.empty()) return failure("no API key on stdin");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  std::string hex;
  for (unsigned char b : digest) {
    static constexpr char kDigits[] = "0123456789abcdef";
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 15]);
  }
  if (args.json) {
    std::printf("%s\n", nlohmann::json{{"api_key_sha256", hex}}.dump().c_str());
  } else {
    std::printf("%s\n", hex.c_str());
  }
  return 0;
}

int jwks(const Args& args) {
  const std::string base = trim_base(option(args, "url"));
  if (base.empty()) return usage_error("jwks needs --url");
  auto answer = perform({"GET", base + "/.well-known/jwks.json", option(args, "cacert"), {}, {}});
  if (!answer.ok()) return failure(answer.error().message);
  if (answer->status != 200) return failure(describe_failure(*answer));
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

Result<SecretString> api_key(const Args& args) {
  const std::string file = option(args, "api-key-file");
  if (!file.empty()) {
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line) || line.empty()) {
      return make_error(Code::kInvalidArgument, "cannot read an API key from '" + file + "'");
    }
    return SecretString(std::move(line));
  }
  if (const char* env = std::getenv("SIGNET_API_KEY"); env && *env) return SecretString(env);
  return make_error(Code::kInvalidArgument, "no API key: set SIGNET_API_KEY or pass --api-key-file");
}

int token_issue(const Args& args) {
  const std::string base = trim_base(option(args, "url"));
  if (base.empty() || option(args, "profile").empty() || option(args, "sub").empty()) {
    return usage_error("token issue needs --url, --profile and --sub");
  }
  nlohmann::ordered_json request{{"profile", option(args, "profile")}, {"sub", option(args, "sub")}};
  if (!option(args, "aud").empty()) request["aud"] = option(args, "aud");
  if (!option(args, "ttl").empty()) request["ttl"] = option(args, "ttl");
  if (!option(args, "claims").empty()) {
    const auto claims = nlohmann::ordered_json::parse(option(args, "claims"), nullptr, false);
    if (!claims.is_object()) return usage_error("--claims must be a JSON object");
    request["claims"] = claims;
  }
  auto key = api_key(args);
  if (!key.ok()) return usage_error(key.error().message);
  HttpCall call{"POST", base + "/v1/tokens", option(args, "cacert"), {"Content-Type: application/json"}, request.dump()};
  call.headers.push_back("Authorization: Bearer " + std::string(key->view()));
  auto answer = perform(call);
  SecretString wiped(std::move(call.headers.back()));  // the header held the key
  if (!answer.ok()) return failure(answer.error().message);
  if (answer->status != 200) return failure(describe_failure(*answer));
  const auto body = nlohmann::json::parse(answer->body, nullptr, false);
  if (!body.is_object() || !body.contains("token")) return failure("the answer holds no token");
  std::printf("%s\n", args.json ? body.dump(2).c_str() : body["token"].get<std::string>().c_str());
  return 0;
}

int run(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, args)) return usage_error("an option is missing its value");
  if (args.words.empty()) return usage_error("no verb");
  const std::string& verb = args.words[0];
  if (verb == "hash-secret") return hash_secret(args);
  if (verb == "jwks") return jwks(args);
  if (verb == "token" && args.words.size() > 1 && args.words[1] == "issue") return token_issue(args);
  return usage_error("unknown verb '" + verb + "'");
}

}  // namespace
}  // namespace signet::ctl

int main(int argc, char** argv) { return signet::ctl::run(argc, argv); }
