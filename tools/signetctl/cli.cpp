#include "tools/signetctl/cli.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>


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

namespace {

// Every option of every verb; main.cpp's verb table says which verb takes which.
struct KnownOption {
  std::string_view name;
  bool takes_value;
};
constexpr KnownOption kKnownOptions[] = {
    {"json", false},        {"help", false},         {"version", false},     {"force", false},
    {"url", true},          {"cacert", true},        {"api-key-file", true}, {"profile", true},
    {"sub", true},          {"aud", true},           {"ttl", true},          {"claims", true},
    {"jwks", true},         {"iss", true},           {"typ", true},          {"config-dir", true},
    {"module", true},       {"token-label", true},   {"pin-file", true},     {"pin-credential", true},
    {"issuer", true},       {"listen", true},        {"alg", true},          {"san", true},
    {"audit-file", true},   {"config", true},        {"uri", true},
};

const KnownOption* find_option(std::string_view name) {
  for (const auto& known : kKnownOptions) {
    if (known.name == name) return &known;
  }
  return nullptr;
}

Error usage(std::string message) { return make_error(Code::kInvalidArgument, std::move(message)); }

}  // namespace

Result<Args> parse_args(int argc, const char* const* argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h") {
      args.flags.insert("help");
      continue;
    }
    if (arg == "--") {  // the rest are operands, even those that start with '-'
      for (++i; i < argc; ++i) args.words.emplace_back(argv[i]);
      break;
    }
    // Options are long; a word with one leading '-' is an operand (a key id may start with '-'),
    // and the verb refuses it when it takes no such operand.
    if (arg.rfind("--", 0) != 0) {
      args.words.emplace_back(arg);
      continue;
    }
    const auto equals = arg.find('=');
    const std::string name(arg.substr(2, equals == std::string_view::npos ? std::string_view::npos : equals - 2));
    const KnownOption* known = find_option(name);
    if (known == nullptr) return usage("unknown option '--" + name + "'");
    if (args.options.count(name) != 0 || args.flags.count(name) != 0) {
      return usage("option '--" + name + "' is given twice");
    }
    if (!known->takes_value) {
      if (equals != std::string_view::npos) return usage("option '--" + name + "' takes no value");
      args.flags.insert(name);
      continue;
    }
    std::string value;
    if (equals != std::string_view::npos) {
      value = std::string(arg.substr(equals + 1));
    } else if (i + 1 < argc && std::string_view(argv[i + 1]).rfind("--", 0) != 0) {
      value = argv[++i];
    }
    // An empty value, or the next option taken for one, is a value forgotten.
    if (value.empty()) return usage("option '--" + name + "' needs a value");
    args.options[name] = std::move(value);
  }
  args.json = args.flag("json");
  return args;
}

int usage_error(const std::string& why) {
  std::fprintf(stderr, "signetctl: %s (try 'signetctl --help')\n", why.c_str());
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
