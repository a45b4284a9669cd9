#include "http/router.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <cstdlib>

#include "base/catch_all.h"

namespace signet::http {

void RouteStats::count(std::size_t route, unsigned status) {
  std::size_t column = kStatuses.size() - 1;
  for (std::size_t i = 0; i + 1 < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) column = i;
  }
  counts_[std::min(route, kMaxRoutes)][column].fetch_add(1, std::memory_order_relaxed);
}

void RouteStats::render(const std::vector<std::string>& route_names, std::string& out) const {
  out += "# TYPE signet_http_requests_total counter\n";
  for (std::size_t r = 0; r <= kMaxRoutes; ++r) {
    const std::string route = r < route_names.size() ? route_names[r] : "unmatched";
    if (r >= route_names.size() && r != kMaxRoutes) continue;
    for (std::size_t c = 0; c < kStatuses.size(); ++c) {
      const auto n = counts_[r][c].load(std::memory_order_relaxed);
      if (n == 0) continue;
      const std::string status = kStatuses[c] ? std::to_string(kStatuses[c]) : "other";
      out += "signet_http_requests_total{route=\"" + route + "\",status=\"" + status + "\"} " + std::to_string(n) + "\n";
    }
  }
}

void Router::add(std::string method, std::string path, Handler handler) {
  // A table larger than the counters is a programming error caught by the first test run.
  if (routes_.size() >= RouteStats::kMaxRoutes) std::abort();
  names_.push_back(method + " " + path);
  routes_.push_back(Route{std::move(method), std::move(path), std::move(handler)});
}

void Router::render_metrics(std::string& out) const {
  stats_->render(names_, out);
  connections_->render(out);
}

namespace {

// Whether path matches pattern; param receives what a "{name}" segment matched.
bool matches(std::string_view pattern, std::string_view path, std::string_view& param) {
  const auto open = pattern.find('{');
  if (open == std::string_view::npos) return pattern == path;
  const auto close = pattern.find('}', open);
  const std::string_view prefix = pattern.substr(0, open);
  const std::string_view suffix = pattern.substr(close + 1);
  if (path.size() <= prefix.size() + suffix.size()) return false;
  if (path.substr(0, prefix.size()) != prefix || path.substr(path.size() - suffix.size()) != suffix) return false;
  param = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  return param.find('/') == std::string_view::npos;
}

}  // namespace

Response Router::call(const Route& route, std::size_t index, const Request& request) const {
  try {
    return route.handler(request);
  } catch (...) {
    return thrown(index);
  }
}

// A handler that throws is a bug: the client gets the 500 with a correlation id that the log
// line of error_response() also holds, and the server goes on.
Response Router::thrown(std::size_t index) const {
  const std::string what = exception_text();
  return error_response(make_error(Code::kInternal, "the handler of " + names_[index] + " threw: " + what));
}

Response Router::finish(Response& deferred) const {
  const std::size_t index = deferred.route;
  Response response;
  try {
    response = deferred.deferred->finish();
  } catch (...) {
    response = thrown(index);
  }
  stats_->count(index, response.status);
  return response;
}

Response Router::await(Response& deferred) const {
  std::mutex mu;
  std::condition_variable woken;
  bool awake = false;
  deferred.deferred->start([&] {
    std::lock_guard lock(mu);
    awake = true;
    woken.notify_one();  // under the lock: the waiter cannot return and free these before
  });
  std::unique_lock lock(mu);
  woken.wait(lock, [&awake] { return awake; });
  return finish(deferred);
}

Response Router::dispatch(const Request& request) const {
  std::string allow;
  std::size_t path_route = RouteStats::kMaxRoutes;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const Route& route = routes_[i];
    std::string_view param;
    if (!matches(route.path, request.path, param)) continue;
    path_route = i;
    if (route.method == request.method) {
      Request routed = request;
      routed.path_param = param;
      Response response = call(route, i, routed);
      if (response.deferred) {
        response.route = i;  // counted once finished
      } else {
        stats_->count(i, response.status);
      }
      return response;
    }
    if (!allow.empty()) allow += ", ";
    allow += route.method;
  }
  if (allow.empty()) {
    stats_->count(RouteStats::kMaxRoutes, 404);
    return error_response(404, "not_found", "no such route");
  }
  stats_->count(path_route, 405);
  Response r = error_response(405, "method_not_allowed", "this route does not accept that method");
  r.headers.emplace_back("Allow", std::move(allow));
  return r;
}

}  // namespace signet::http
