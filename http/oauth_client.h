// What the OAuth 2.0 endpoints (token, introspection) share: how their client authenticates
// and how they answer errors. A client authenticates with HTTP Basic, its id and API key
// (RFC 6749 §2.3.1), or with its mTLS certificate (RFC 8705 tls_client_auth); a failure is
// counted and logged as at every route that authenticates, never with the credential.
#pragma once

#include <string_view>

#include "http/api.h"

namespace signet::http {

// The client, admitted within its rate limit. Errors: kUnauthenticated (answer 401
// invalid_client: oauth_refusal does that), kRateLimited (backoff or rate, 429).
Result<Caller> authenticate_oauth_client(const ApiContext& context, const Request& request);

// An RFC 6749 §5.2 error answer: {"error", "error_description"}, no-store, and on 401 the
// WWW-Authenticate challenge for HTTP Basic.
Response oauth_error(unsigned status, std::string_view error, std::string_view description);

// The answer for an authentication error of authenticate_oauth_client.
Response oauth_refusal(const Error& error);

}  // namespace signet::http
