// Who may call a route, as data: each route of the table (routes.h) names its Access, and the
// table checks it before the handler runs, so no handler authenticates by itself. The checks
// also count failed authentications per address and refuse an address in backoff before any
// credential is looked at (docs/API.md, "Hostile clients").
#pragma once

#include "base/result.h"
#include "firmware/api/context.h"
#include "http/message.h"

namespace signet::api {

enum class Access {
  kPublic,       // no credentials asked, none counted
  kClient,       // a client of the config: Authorization: Bearer <api key>, or its mTLS certificate
  kAdmin,        // the same, and the client has "admin": true (else 403)
  kOAuthClient,  // a client the OAuth 2.0 way (RFC 6749 §2.3.1): HTTP Basic id and API key, or mTLS
};

// The caller this request may be served for (null for kPublic), within its rate limit.
// Errors: kRateLimited (address in backoff, client over its rate), kUnauthenticated (no or
// unknown credentials), kPermissionDenied (kAdmin, a client that is not admin).
Result<Caller> admit(const ApiContext& context, const http::Request& request, Access access);

// The answer to a request admit() refused: docs/API.md's error body, or RFC 6749 §5.2's for
// an OAuth client without valid credentials.
http::Response refusal(Access access, const Error& error);

}  // namespace signet::api
