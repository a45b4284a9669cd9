// What every signetctl verb shares: parsed arguments, the error conventions of docs/API.md
// (one "signetctl:" line on stderr; exit 2 for usage, 1 for a failure), the API key and the
// server's error answers. Options are checked against one table of known options: an unknown
// one, or one without its value, is a usage error that names it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/secret.h"
#include "tools/signetctl/https_client.h"

namespace signet::ctl {

struct Args {
  std::vector<std::string> words;  // the verb and its operands
  std::map<std::string, std::string> options;  // options with a value, by name without "--"
  std::set<std::string> flags;                 // options without one: json, force, help, version
  bool json = false;

  std::string option(const std::string& name) const;
  bool flag(const std::string& name) const { return flags.count(name) != 0; }
  // --url without its trailing slashes.
  std::string base_url() const;
};

// Reads `--name value`, `--name=value` and flags anywhere on the line; the other words are the
// verb and its operands, and every word after `--` is an operand. Errors (kInvalidArgument): an unknown option, a value missing (or
// looking like another option), a flag given a value, an option given twice.
Result<Args> parse_args(int argc, const char* const* argv);

// "signetctl: <why> (try 'signetctl <verb> --help')" and exit 2.
int usage_error(const std::string& why);
int failure(const std::string& why);

// The API key from --api-key-file or $SIGNET_API_KEY.
Result<SecretString> api_key(const Args& args);

// Calls the server with the API key as a Bearer credential; the header holding the key is
// wiped afterwards. Answers the body of a 2xx answer, else an error naming the server's reason.
Result<std::string> call_server(const Args& args, const std::string& method, const std::string& path,
                                const std::string& json_body = "");

// The verbs, one file each.
int hash_secret(const Args& args);
int jwks(const Args& args);
int token_issue(const Args& args);
int keys(const Args& args);
int verify_token(const Args& args);
int audit(const Args& args);
int init(const Args& args);

}  // namespace signet::ctl
