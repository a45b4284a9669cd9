#include "http/refusal_log.h"

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "firmware/limits/address.h"

namespace signet::http {

void log_refusal(const Request& request, const Response& response) {
  if (response.status < 400 || response.status == 401 || (response.status >= 500 && response.status != 503)) return;
  std::string code, description;
  // Every error body is {"error", "error_description"} (message.h). An answer without one is
  // not a refusal but a state: /readyz's 503 says "not ready", and a poller must not fill the log.
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object()) {
    if (body.contains("error") && body["error"].is_string()) code = body["error"].get<std::string>();
    if (body.contains("error_description") && body["error_description"].is_string()) {
      description = body["error_description"].get<std::string>();
    }
  }
  if (code.empty()) return;
  const std::string address = limits::Address::from_bytes(request.peer_address().value_or(std::string_view())).to_string();
  const std::string route = std::string(request.method.substr(0, 16)) + " " + std::string(request.path.substr(0, 128));
  const std::string status = std::to_string(response.status);
  log::warn("request_refused", {{"address", address}, {"route", route}, {"status", status}, {"error", code},
                                {"reason", description}});
}

}  // namespace signet::http
