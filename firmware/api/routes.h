// Signet's HTTP API (docs/API.md) as one table: method, path, who may call it, and the handler.
// The table lives in routes.cpp; make_router() serves it, checking each route's access
// (access.h) before its handler runs.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "firmware/api/access.h"
#include "firmware/api/context.h"
#include "http/router.h"

namespace signet::api {

struct Route {
  std::string_view method;
  std::string_view path;  // may hold one "{name}" segment (http/router.h)
  Access access;
  Handler handler;
};

// Every route, in the order the router matches them.
std::span<const Route> routes();

// The served table; it stays where it is made, since /metrics reads its counters.
std::unique_ptr<http::Router> make_router(const ApiContext& context);

}  // namespace signet::api
