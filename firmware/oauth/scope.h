// The OAuth 2.0 `scope` parameter (RFC 6749 §3.3) and how Signet serves it: each scope token
// names a profile, and one token is signed with one profile, so a request is served only when
// its scope names one profile. Pure functions; errors are kInvalidArgument with a sentence the
// token endpoint sends as `invalid_scope`'s error_description.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace signet::oauth {

// scope = scope-token *( SP scope-token ), scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
// The tokens in order, a repeated one kept once (the scope is a set). An empty scope, a double
// or trailing space, or a character outside the grammar is refused.
Result<std::vector<std::string>> parse_scope(std::string_view text);

// The profile of the one token this request can get: the scope's single token, or the
// `profile` parameter (an older spelling, which must agree with the scope when both are
// given), or else the client's first profile. Whether the client may use it is decided later
// by issuance::decide.
Result<std::string> profile_for_request(const config::Client& client, std::optional<std::string_view> scope,
                                        std::optional<std::string_view> profile);

}  // namespace signet::oauth
