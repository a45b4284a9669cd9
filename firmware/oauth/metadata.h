// What the server says about itself: RFC 8414 authorization server metadata and the OpenID
// Connect discovery document, from one source so that the two never disagree. Both name only
// what is served: the client credentials grant at the token endpoint, RFC 7662 introspection,
// the JWKS, and the client authentication methods the config enables (HTTP Basic always,
// tls_client_auth only with a client CA). No authorization endpoint is served, so no response
// type is offered.
#pragma once

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace signet::oauth {

// RFC 8414 §2, served at /.well-known/oauth-authorization-server.
nlohmann::ordered_json authorization_server_metadata(const config::Config& config);

// The same members plus those OpenID Connect Discovery 1.0 §3 requires of every provider
// (subject_types_supported, id_token_signing_alg_values_supported), served at
// /.well-known/openid-configuration.
nlohmann::ordered_json openid_configuration(const config::Config& config);

}  // namespace signet::oauth
