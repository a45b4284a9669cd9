#include "firmware/api/oauth_error.h"

#include <nlohmann/json.hpp>

namespace signet::api {

http::Response oauth_error(unsigned status, std::string_view error, std::string_view description) {
  http::Response r = http::json_response(status, nlohmann::json{{"error", error}, {"error_description", description}}.dump());
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"signet\"");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace signet::api
