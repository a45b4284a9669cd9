// The plain request and response that handlers see. libmicrohttpd stays inside server.cpp:
// a Request reaches headers and the query through a lookup the server provides, and views
// into the request (method, path, body) are valid for the duration of the handler call.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace signet::http {

class Request {
 public:
  enum class Part { kHeader, kQuery, kPeerSubject, kPeerAddress };
  using Lookup = std::optional<std::string_view> (*)(const void* context, Part part, std::string_view name);

  Request(std::string_view method, std::string_view path, std::string_view body, Lookup lookup, const void* context)
      : method(method), path(path), body(body), lookup_(lookup), context_(context) {}

  std::string_view method;
  std::string_view path;
  std::string_view body;
  std::string_view path_param;  // what a route's "{name}" segment matched, set by the Router

  std::optional<std::string_view> header(std::string_view name) const { return lookup_(context_, Part::kHeader, name); }
  std::optional<std::string_view> query(std::string_view name) const { return lookup_(context_, Part::kQuery, name); }
  // The subject (RFC 4514) of the client certificate, once verified against the configured
  // client CA for TLS client use; nullopt without mTLS, without a certificate, or when it fails.
  std::optional<std::string_view> peer_subject() const { return lookup_(context_, Part::kPeerSubject, {}); }
  // The client's IP address as raw bytes (4 for IPv4, 16 for IPv6); nullopt when unknown.
  std::optional<std::string_view> peer_address() const { return lookup_(context_, Part::kPeerAddress, {}); }

 private:
  Lookup lookup_;
  const void* context_;
};

struct Response;

// An answer that waits on something else (the audit ledger's flush) without holding a worker
// thread meanwhile. The server parks the connection and calls start() once on the worker
// thread; start() must arrange for wake to be called exactly once, from any thread. Then the
// server calls finish() on a worker thread for the answer to send. wake may free the Deferred
// before it returns: whoever calls it touches nothing of the Deferred afterwards.
class Deferred {
 public:
  using Wake = std::function<void()>;
  virtual ~Deferred() = default;
  virtual void start(Wake wake) noexcept = 0;
  virtual Response finish() = 0;
};

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  // A body shared with the rest of the process (the JWKS): sent without a copy.
  std::shared_ptr<const std::string> shared_body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set: the answer is not known yet (the rest is unused); see Deferred.
  std::unique_ptr<Deferred> deferred;
  std::size_t route = 0;  // which route deferred it, for the Router's counters
};

// An answer that deferred will give.
Response deferred_response(std::unique_ptr<Deferred> deferred);

// A JSON answer with this status.
Response json_response(unsigned status, std::string body);

// The one place where an Error becomes an HTTP answer (docs/API.md, "Errors"):
// {"error": code, "error_description": message}, with WWW-Authenticate on 401 and
// Retry-After on 503. Internal errors answer only a correlation id, which the log also has.
Response error_response(const Error& error);

// A specific status and code for errors that have no Code of their own (404, 405, 413, 415).
Response error_response(unsigned status, std::string_view code, std::string_view description);

// Whether a Content-Type is the media type `expected` (lowercase), compared case-insensitively and
// with parameters such as charset allowed.
bool is_media_type(std::optional<std::string_view> content_type, std::string_view expected);
inline constexpr std::string_view kJsonMediaType = "application/json";
inline constexpr std::string_view kFormMediaType = "application/x-www-form-urlencoded";

}  // namespace signet::http
