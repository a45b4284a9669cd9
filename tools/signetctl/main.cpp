// signetctl: the operator's tool. Parses the line, finds the verb in one table (its options and
// help) and hands it to its own file.
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string_view>
#include <vector>

#include "base/version.h"
#include "tools/signetctl/cli.h"
#include "tools/signetctl/usage.h"

namespace signet::ctl {

namespace {

struct Verb {
  std::string_view name;
  std::vector<std::string_view> options;  // besides --json and --help
  std::size_t most_words;                  // the verb and its operands (e.g. keys revoke KID: 3)
  const char* help;
  int (*run)(const Args&);
};

const std::vector<Verb>& verbs() {
  static const std::vector<Verb> table = {
      {"init",
       {"config-dir", "module", "token-label", "uri", "pin-file", "pin-credential", "issuer", "listen", "alg", "san",
        "audit-file", "force"},
       1, kInitHelp, &init},
      {"hash-secret", {}, 1, kHashSecretHelp, &hash_secret},
      {"jwks", {"url", "cacert"}, 1, kJwksHelp, &jwks},
      {"token", {"url", "cacert", "api-key-file", "profile", "sub", "aud", "ttl", "claims"}, 2, kTokenHelp,
       &token_issue},
      {"keys", {"url", "cacert", "api-key-file"}, 3, kKeysHelp, &keys},
      {"verify", {"jwks", "cacert", "aud", "iss", "typ"}, 2, kVerifyHelp, &verify_token},
      {"audit", {"config"}, 3, kAuditHelp, &audit},
  };
  return table;
}

int run(int argc, char** argv) {
  auto parsed = parse_args(argc, argv);
  if (!parsed.ok()) return usage_error(parsed.error().message);
  const Args& args = *parsed;
  if (args.flag("version")) {
    std::puts(version_line("signetctl").c_str());
    return 0;
  }
  if (args.words.empty()) {
    if (args.flag("help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    return usage_error("no verb");
  }
  const std::string& name = args.words[0];
  const auto verb = std::find_if(verbs().begin(), verbs().end(), [&](const Verb& v) { return v.name == name; });
  if (verb == verbs().end()) return usage_error("unknown verb '" + name + "'");
  if (args.flag("help")) {
    std::fputs(verb->help, stdout);
    return 0;
  }
  const auto takes = [&](const std::string& option) {
    return option == "json" || std::find(verb->options.begin(), verb->options.end(), option) != verb->options.end();
  };
  for (const auto& [option, value] : args.options) {
    if (!takes(option)) return usage_error("'" + name + "' takes no option '--" + option + "'");
  }
  for (const auto& flag : args.flags) {
    if (!takes(flag)) return usage_error("'" + name + "' takes no option '--" + flag + "'");
  }
  if (args.words.size() > verb->most_words) {
    return usage_error("'" + name + "' takes no operand '" + args.words[verb->most_words] + "'");
  }
  if (name == "token" && (args.words.size() < 2 || args.words[1] != "issue")) return usage_error("token takes issue");
  return verb->run(args);
}

}  // namespace
}  // namespace signet::ctl

int main(int argc, char** argv) { return signet::ctl::run(argc, argv); }
