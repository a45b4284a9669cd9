// signetctl: the operator's tool. Parses the words and hands each verb to its own file.
#include "tools/signetctl/cli.h"

namespace signet::ctl {
namespace {

int run(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, args)) return usage_error("an option is missing its value");
  if (args.words.empty()) return usage_error("no verb");
  const std::string& verb = args.words[0];
  if (verb == "hash-secret") return hash_secret(args);
  if (verb == "jwks") return jwks(args);
  if (verb == "token" && args.words.size() > 1 && args.words[1] == "issue") return token_issue(args);
  if (verb == "keys") return keys(args);
  if (verb == "verify") return verify_token(args);
  if (verb == "audit") return audit(args);
  return usage_error("unknown verb '" + verb + "'");
}

}  // namespace
}  // namespace signet::ctl

int main(int argc, char** argv) { return signet::ctl::run(argc, argv); }
