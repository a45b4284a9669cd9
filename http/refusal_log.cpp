#include "http/refusal_log.h"

#include <arpa/inet.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "base/log.h"

namespace signet::http {
namespace {

// The client's address as the auth_failed lines write it (firmware/limits/address.h), so
// that both lines of one client match: IPv4 (also when mapped into IPv6), or an IPv6 /64.
std::string address_text(std::string_view raw) {
  static constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (raw.size() == 16 && std::memcmp(raw.data(), kMappedPrefix, sizeof kMappedPrefix) == 0) raw.remove_prefix(12);
  char text[INET6_ADDRSTRLEN + 4] = "unknown";
  if (raw.size() == 4) {
    inet_ntop(AF_INET, raw.data(), text, sizeof text);
  } else if (raw.size() == 16) {
    unsigned char prefix[16] = {};
    std::memcpy(prefix, raw.data(), 8);  // the /64: the rest stays zero
    inet_ntop(AF_INET6, prefix, text, INET6_ADDRSTRLEN);
    std::strcat(text, "/64");
  }
  return text;
}

}  // namespace

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
  const std::string address = address_text(request.peer_address().value_or(std::string_view()));
  const std::string route = std::string(request.method.substr(0, 16)) + " " + std::string(request.path.substr(0, 128));
  const std::string status = std::to_string(response.status);
  log::warn("request_refused", {{"address", address}, {"route", route}, {"status", status}, {"error", code},
                                {"reason", description}});
}

}  // namespace signet::http
