// verify --jwks URL TOKEN: checks a token as a relying party would, with the verifier library
// and its JWKS fetcher. Exit 0 and the claims when valid; exit 1 and the reason when not.
#include <cstdio>

#include "firmware/verify/jwks_fetcher.h"
#include "tools/signetctl/cli.h"

namespace signet::ctl {

int verify_token(const Args& args) {
  if (args.option("jwks").empty() || args.words.size() != 2) return usage_error("verify needs --jwks URL and one TOKEN");
  verify::JwksFetcherOptions options;
  options.url = args.option("jwks");
  options.ca_file = args.option("cacert");
  verify::JwksFetcher fetcher(options);
  verify::Expectations expect;
  if (!args.option("aud").empty()) expect.audience = args.option("aud");
  if (!args.option("iss").empty()) expect.issuer = args.option("iss");
  if (!args.option("typ").empty()) expect.typ = args.option("typ");
  const auto result = verify::verify_with(fetcher, args.words[1], expect);
  if (args.json) {
    nlohmann::ordered_json out{{"valid", result.valid}, {"reason", verify::to_string(result.reason)}};
    if (result.valid) out["claims"] = result.claims;
    std::printf("%s\n", out.dump(2).c_str());
  } else if (result.valid) {
    std::printf("%s\n", result.claims.dump(2).c_str());
  }
  if (!result.valid) {
    // Without any key set, "unknown kid" would hide the real trouble.
    if (result.reason == verify::Reason::kUnknownKid && fetcher.stats().failures > 0) {
      return failure("the JWKS at " + options.url + " could not be fetched");
    }
    if (!args.json) std::fprintf(stderr, "signetctl: invalid token: %s\n", std::string(verify::to_string(result.reason)).c_str());
    return 1;
  }
  return 0;
}

}  // namespace signet::ctl
