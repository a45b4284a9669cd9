// The log line of a refused request, so that an operator sees every refusal with who asked,
// where and why: `request_refused` with the client's address, the route, the status and the
// error code and description it was answered (which never hold a credential or a token).
// A 401 is not logged here, since the route that refused it logs `auth_failed` with the
// precise reason; a 500 neither, since it is logged with its correlation id where it happens.
#pragma once

#include "http/message.h"

namespace signet::http {

void log_refusal(const Request& request, const Response& response);

}  // namespace signet::http
