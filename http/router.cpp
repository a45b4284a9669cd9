#include "http/router.h"

namespace signet::http {

void Router::add(std::string method, std::string path, Handler handler) {
  routes_.push_back(Route{std::move(method), std::move(path), std::move(handler)});
}

Response Router::dispatch(const Request& request) const {
  std::string allow;
  for (const auto& route : routes_) {
    if (route.path != request.path) continue;
    if (route.method == request.method) return route.handler(request);
    if (!allow.empty()) allow += ", ";
    allow += route.method;
  }
  if (allow.empty()) return error_response(404, "not_found", "no such route");
  Response r = error_response(405, "method_not_allowed", "this route does not accept that method");
  r.headers.emplace_back("Allow", std::move(allow));
  return r;
}

}  // namespace signet::http
