// Walks the route table (firmware/api/routes.cpp): access is data, and the router checks it
// before any handler runs, for every route alike.
#include <gtest/gtest.h>

#include "tests/unit/api_fixture.h"

namespace signet::testing {
namespace {

// The route's path with its "{name}" segment filled in.
std::string concrete(std::string_view path) {
  std::string out(path);
  if (const auto open = out.find('{'); open != std::string::npos) out.replace(open, out.find('}') - open + 1, "some-kid");
  return out;
}

TestRequest to(const api::Route& route) {
  TestRequest request;
  request.method = std::string(route.method);
  request.path = concrete(route.path);
  return request;
}

class RouteTable : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(api.started()); }
  Api api;
};

TEST_F(RouteTable, EveryAdminRouteRefusesAClientKey) {
  int admin_routes = 0;
  for (const api::Route& route : api::routes()) {
    if (route.access != api::Access::kAdmin) continue;
    ++admin_routes;
    const http::Response r = api.call(to(route).bearer(kWebappKey));
    EXPECT_EQ(r.status, 403u) << route.method << " " << route.path;
    EXPECT_EQ(error_code(r), "access_denied") << route.method << " " << route.path;
  }
  EXPECT_EQ(admin_routes, 3);
}

TEST_F(RouteTable, EveryClientRouteRefusesARequestWithoutCredentials) {
  int client_routes = 0;
  for (const api::Route& route : api::routes()) {
    if (route.access == api::Access::kPublic) continue;
    ++client_routes;
    const http::Response r = api.call(to(route));
    EXPECT_EQ(r.status, 401u) << route.method << " " << route.path;
    EXPECT_EQ(error_code(r), "invalid_client") << route.method << " " << route.path;
    // The challenge names the scheme the route takes.
    const std::string scheme = route.access == api::Access::kOAuthClient ? "Basic" : "Bearer";
    EXPECT_EQ(header(r, "WWW-Authenticate"), scheme + " realm=\"signet\"") << route.method << " " << route.path;
  }
  EXPECT_EQ(client_routes, 8);
}

TEST_F(RouteTable, EveryClientRouteRefusesAnUnknownKey) {
  for (const api::Route& route : api::routes()) {
    if (route.access == api::Access::kPublic || route.access == api::Access::kOAuthClient) continue;
    const http::Response r = api.call(to(route).bearer("not-a-key-of-anyone"));
    EXPECT_EQ(r.status, 401u) << route.method << " " << route.path;
  }
}

TEST_F(RouteTable, PublicRoutesNeedNoCredentials) {
  int public_routes = 0;
  for (const api::Route& route : api::routes()) {
    if (route.access != api::Access::kPublic) continue;
    ++public_routes;
    const http::Response r = api.call(to(route));
    EXPECT_EQ(r.status, 200u) << route.method << " " << route.path << ": " << r.body;
  }
  EXPECT_EQ(public_routes, 7);
}

TEST_F(RouteTable, PublicRoutesIgnoreWrongCredentials) {
  for (const api::Route& route : api::routes()) {
    if (route.access != api::Access::kPublic) continue;
    EXPECT_EQ(api.call(to(route).bearer("not-a-key-of-anyone")).status, 200u) << route.method << " " << route.path;
  }
}

TEST_F(RouteTable, EveryRouteIsServedOnceByItsMethodAndPath) {
  for (const api::Route& route : api::routes()) {
    TestRequest other = to(route);
    other.method = route.method == "GET" ? "DELETE" : "GET";
    const http::Response r = api.call(other);
    EXPECT_EQ(r.status, 405u) << route.method << " " << route.path;
    EXPECT_EQ(header(r, "Allow"), route.method) << route.method << " " << route.path;
  }
}

}  // namespace
}  // namespace signet::testing
