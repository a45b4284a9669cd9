#include "tools/signetctl/cli.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tools/signetctl/usage.h"

namespace signet::ctl {

std::string Args::option(const std::string& name) const {
  const auto it = options.find(name);
  return it == options.end() ? std::string() : it->second;
}

std::string Args::base_url() const {
  std::string url = option("url");
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
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

int usage_error(const std::string& why) {
  std::fprintf(stderr, "signetctl: %s\n%s", why.c_str(), kUsage);
  return 2;
}

int failure(const std::string& why) {
  std::fprintf(stderr, "signetctl: %s\n", why.c_str());
  return 1;
}

Result<SecretString> api_key(const Args& args) {
  const std::string file = args.option("api-key-file");
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

Result<std::string> call_server(const Args& args, const std::string& method, const std::string& path,
                                const std::string& json_body) {
  auto key = api_key(args);
  if (!key.ok()) return key.error();
  HttpCall call{method, args.base_url() + path, args.option("cacert"), {}, json_body};
  if (!json_body.empty()) call.headers.push_back("Content-Type: application/json");
  call.headers.push_back("Authorization: Bearer " + std::string(key->view()));
  auto answer = perform(call);
  SecretString wiped(std::move(call.headers.back()));  // the header held the key
  if (!answer.ok()) return answer.error();
  if (answer->status / 100 != 2) {
    const auto body = nlohmann::json::parse(answer->body, nullptr, false);
    std::string text = "the server answered " + std::to_string(answer->status);
    if (body.is_object() && body.contains("error_description") && body["error_description"].is_string()) {
      text += ": " + body["error_description"].get<std::string>();
    }
    return make_error(Code::kInternal, text);
  }
  return std::move(answer->body);
}

}  // namespace signet::ctl
