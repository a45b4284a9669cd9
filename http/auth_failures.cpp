// What the routes that authenticate share about failed authentications: the backoff check
// before credentials are looked at, and the count and log line of each failure.
#include "base/log.h"
#include "http/api.h"

namespace signet::http {

std::shared_ptr<limits::AuthFailures> ApiContext::make_auth_failures(const config::Limits& limits) {
  limits::AuthFailures::Options options;
  options.threshold = limits.auth_failures_per_address;
  options.max_backoff = limits.max_auth_backoff;
  return std::make_shared<limits::AuthFailures>(options);
}

limits::Address peer_address(const Request& request) {
  return limits::Address::from_bytes(request.peer_address().value_or(std::string_view()));
}

Status check_auth_backoff(const ApiContext& context, const limits::Address& from) {
  const auto decision = context.auth_failures->admit(from, limits::AuthFailures::Clock::now());
  if (decision.allowed) return ok_status();
  Error error = make_error(Code::kRateLimited, "too many failed authentications from this address; retry later");
  error.retry_after_seconds = decision.retry_after_seconds;
  return error;
}

void note_auth_failure(const ApiContext& context, const Request& request, const limits::Address& from,
                       limits::AuthFailures::Reason reason, std::string_view client_id) {
  client_id = client_id.substr(0, 64);  // what the caller named, bounded; never the secret
  const auto now = limits::AuthFailures::Clock::now();
  const auto decision = context.auth_failures->record(reason, from, client_id, now);
  const std::string address = from.to_string();
  const std::string route = std::string(request.method) + " " + std::string(request.path.substr(0, 128));
  log::warn("auth_failed", {{"address", address}, {"route", route},
                            {"reason", limits::AuthFailures::reason_name(reason)}, {"client", client_id}});
  if (!decision.allowed) {
    log::warn("auth_backoff", {{"address", address}, {"retry_after_seconds", std::to_string(decision.retry_after_seconds)}});
  }
}

}  // namespace signet::http
