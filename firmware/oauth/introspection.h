// The answer of RFC 7662 token introspection, from the verifier's verdict. A valid token is
// `{"active": true, ...}` with its claims at the top level; anything else is exactly
// `{"active": false}`, since RFC 7662 §2.2 gives the caller no more than that (why a token
// failed is for the server's log, not for whoever holds the token).
#pragma once

#include <nlohmann/json.hpp>

#include "firmware/verify/verifier.h"

namespace signet::oauth {

// active true: every claim of the token (iss, sub, aud, iat, nbf, exp, jti, client_id and the
// profile's custom claims), `scope` (the token's own, else its profile, which is what a scope
// names here) and `token_type` "Bearer" (RFC 7662 §2.2 means the OAuth token type, not typ).
nlohmann::ordered_json introspection_response(const verify::VerifyResult& result);

}  // namespace signet::oauth
