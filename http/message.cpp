#include "http/message.h"

#include <openssl/rand.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "base/log.h"

namespace signet::http {
namespace {

std::string correlation_id() {
  unsigned char bytes[8];
  RAND_bytes(bytes, sizeof bytes);
  return hex::encode(bytes, sizeof bytes);
}

}  // namespace

Response json_response(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response deferred_response(std::unique_ptr<Deferred> deferred) {
  Response r;
  r.deferred = std::move(deferred);
  return r;
}

Response error_response(unsigned status, std::string_view code, std::string_view description) {
  nlohmann::json body = {{"error", code}, {"error_description", description}};
  return json_response(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

bool is_media_type(std::optional<std::string_view> content_type, std::string_view expected) {
  if (!content_type) return false;
  std::string_view type = content_type->substr(0, content_type->find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.size() != expected.size()) return false;
  for (std::size_t i = 0; i < type.size(); ++i) {
    const char c = type[i];
    if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != expected[i]) return false;  // media types are case-insensitive
  }
  return true;
}

Response error_response(const Error& error) {
  switch (error.code) {
    case Code::kInvalidArgument:
      return error_response(400, "invalid_request", error.message);
    case Code::kUnauthenticated: {
      Response r = error_response(401, "invalid_client", error.message);
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"signet\"");
      return r;
    }
    case Code::kPermissionDenied:
      return error_response(403, "access_denied", error.message);
    case Code::kNotFound:
      return error_response(404, "not_found", error.message);
    case Code::kHsmUnavailable:
    case Code::kHsmModule:
    case Code::kHsmTokenNotFound:
    case Code::kHsmPin: {
      log::error("hsm_unavailable", {{"detail", error.message}});
      Response r = error_response(503, "hsm_unavailable", "the HSM cannot sign right now; retry shortly");
      r.headers.emplace_back("Retry-After", std::to_string(std::max(1L, error.retry_after_seconds)));
      return r;
    }
    case Code::kRateLimited: {
      Response r = error_response(429, "rate_limited", error.message);
      r.headers.emplace_back("Retry-After", std::to_string(std::max(1L, error.retry_after_seconds)));
      return r;
    }
    case Code::kOverloaded: {
      // Not logged per request: under a burst that would be one line per refusal; /metrics
      // counts them (signet_signing_refused_total).
      Response r = error_response(503, "overloaded", error.message + "; retry shortly");
      r.headers.emplace_back("Retry-After", std::to_string(std::max(1L, error.retry_after_seconds)));
      return r;
    }
    case Code::kAuditUnavailable: {
      log::error("audit_unavailable", {{"detail", error.message}});
      Response r = error_response(503, "audit_unavailable", "the audit ledger cannot be written; nothing is issued until it can");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    case Code::kConfig:
    case Code::kTls:
    case Code::kInternal:
      break;
  }
  const std::string id = correlation_id();
  log::error("internal_error", {{"correlation_id", id}, {"detail", error.message}});
  return error_response(500, "internal_error", "internal error; correlation id " + id);
}

}  // namespace signet::http
