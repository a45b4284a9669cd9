// JWT access tokens as RFC 9068 profiles them, for tokens an OAuth 2.0 grant hands out:
// header typ "at+jwt" (§2.1, so that a resource server never mistakes another JWT for one),
// and the claims client_id and scope (§2.2) beside those every Signet token has (iss, sub,
// aud, iat, exp, jti). The client credentials grant's sub is the client itself (§2.2).
#pragma once

#include <string_view>

#include "firmware/issuance/policy.h"

namespace signet::issuance {

inline constexpr std::string_view kAccessTokenTyp = "at+jwt";

// Makes a decided grant an RFC 9068 access token for client_id: its typ and its claims
// client_id and scope (the granted profile, the one scope token a request may name).
void make_access_token(Grant& grant, std::string_view client_id);

}  // namespace signet::issuance
