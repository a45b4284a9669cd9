// The error answer of the OAuth 2.0 token endpoint (RFC 6749 §5.2): {"error",
// "error_description"}, never cached, and on 401 the HTTP Basic challenge the client answers.
#pragma once

#include <string_view>

#include "http/message.h"

namespace signet::api {

http::Response oauth_error(unsigned status, std::string_view error, std::string_view description);

}  // namespace signet::api
