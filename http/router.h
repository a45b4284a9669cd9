// The routing table: (method, path) to a handler. A route's path may hold one "{name}"
// segment, which matches any one non-empty segment (handed over as Request::path_param).
// A path the table knows with another method answers 405 with Allow; an unknown path 404.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/connection_stats.h"
#include "http/message.h"

namespace signet::http {

using Handler = std::function<Response(const Request&)>;

// Requests answered, by route and status: lock-free counters for /metrics.
class RouteStats {
 public:
  static constexpr std::size_t kMaxRoutes = 31;  // and one row for requests no route matched
  static constexpr std::array<unsigned, 13> kStatuses = {200, 304, 400, 401, 403, 404, 405, 413, 415, 429, 500, 503, 0};

  void count(std::size_t route, unsigned status);
  void render(const std::vector<std::string>& route_names, std::string& out) const;

 private:
  std::array<std::array<std::atomic<std::uint64_t>, kStatuses.size()>, kMaxRoutes + 1> counts_{};
};

class Router {
 public:
  Router() : stats_(std::make_shared<RouteStats>()), connections_(std::make_shared<ConnectionStats>()) {}
  void add(std::string method, std::string path, Handler handler);
  // The answer of the route that matches, or 404/405. A handler that throws answers 500
  // internal_error with a correlation id, logged with what it threw.
  Response dispatch(const Request& request) const;
  // The answer of a deferred one (Response::deferred), once it woke the server; counted and
  // guarded as dispatch() does.
  Response finish(Response& deferred) const;
  // Starts a deferred answer and blocks this thread until it wakes, then finish(): for callers
  // that may not park a connection (a server that stops, tests).
  Response await(Response& deferred) const;

  // Prometheus lines for the requests answered so far ("signet_http_requests_total") and the
  // connections (signet_connections_*).
  void render_metrics(std::string& out) const;

  // Where the server counts connections.
  std::shared_ptr<ConnectionStats> connection_stats() const { return connections_; }

 private:
  struct Route {
    std::string method;
    std::string path;
    Handler handler;
  };
  Response call(const Route& route, std::size_t index, const Request& request) const;
  Response thrown(std::size_t index) const;  // the 500 for a handler that threw
  std::vector<Route> routes_;
  std::vector<std::string> names_;  // "METHOD path", by route index
  std::shared_ptr<RouteStats> stats_;
  std::shared_ptr<ConnectionStats> connections_;
};

}  // namespace signet::http
