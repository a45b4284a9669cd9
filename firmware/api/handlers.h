// The handlers the route table (routes.cpp) names, one file per group. Each one is called only
// once the route's access has admitted the caller: handlers parse, call the firmware and answer.
#pragma once

#include "firmware/api/context.h"
#include "http/message.h"

namespace signet::api {

// public_routes.cpp: the JWKS, OIDC discovery, RFC 8414 metadata and health.
http::Response jwks(const Call& call);
http::Response discovery(const Call& call);
http::Response authorization_server_metadata(const Call& call);
http::Response liveness(const Call& call);
http::Response readiness(const Call& call);
// metrics_route.cpp
http::Response metrics(const Call& call);
// token_routes.cpp
http::Response issue_token(const Call& call);
http::Response issue_auth(const Call& call);
// oauth_route.cpp
http::Response oauth_token(const Call& call);
// introspect_route.cpp
http::Response oauth_introspect(const Call& call);
// verify_route.cpp
http::Response introspect(const Call& call);
// admin_routes.cpp
http::Response list_keys(const Call& call);
http::Response rotate_keys(const Call& call);
http::Response revoke_key(const Call& call);

}  // namespace signet::api
