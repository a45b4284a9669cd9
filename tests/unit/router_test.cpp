#include "http/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace signet::http {
namespace {

std::optional<std::string_view> no_values(const void*, Request::Part, std::string_view) { return std::nullopt; }

Response call(const Router& router, std::string_view method, std::string_view path) {
  return router.dispatch(Request(method, path, "", &no_values, nullptr));
}

std::string header(const Response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "(absent)";
}

TEST(Router, DispatchesByMethodAndPath) {
  Router router;
  router.add("GET", "/a", [](const Request&) { return json_response(200, "\"get a\""); });
  router.add("POST", "/a", [](const Request&) { return json_response(201, "\"post a\""); });
  router.add("GET", "/b", [](const Request&) { return json_response(200, "\"get b\""); });
  EXPECT_EQ(call(router, "GET", "/a").body, "\"get a\"");
  EXPECT_EQ(call(router, "POST", "/a").status, 201u);
  EXPECT_EQ(call(router, "GET", "/b").body, "\"get b\"");

  const Response missing = call(router, "GET", "/c");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(nlohmann::json::parse(missing.body)["error"], "not_found");

  const Response wrong = call(router, "DELETE", "/a");
  EXPECT_EQ(wrong.status, 405u);
  EXPECT_EQ(header(wrong, "Allow"), "GET, POST");
  EXPECT_EQ(nlohmann::json::parse(wrong.body)["error"], "method_not_allowed");
}

TEST(ErrorResponse, MapsEachCodeOnce) {
  struct Case {
    Code code;
    unsigned status;
    const char* error;
  };
  for (const Case& c : {Case{Code::kInvalidArgument, 400, "invalid_request"},
                        Case{Code::kUnauthenticated, 401, "invalid_client"},
                        Case{Code::kPermissionDenied, 403, "access_denied"}, Case{Code::kNotFound, 404, "not_found"},
                        Case{Code::kHsmUnavailable, 503, "hsm_unavailable"},
                        Case{Code::kInternal, 500, "internal_error"}}) {
    const Response r = error_response(make_error(c.code, "why"));
    EXPECT_EQ(r.status, c.status);
    const auto body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["error"], c.error);
    EXPECT_TRUE(body["error_description"].is_string());
  }
  EXPECT_EQ(header(error_response(make_error(Code::kUnauthenticated, "x")), "WWW-Authenticate"), "Bearer realm=\"signet\"");
  EXPECT_EQ(header(error_response(make_error(Code::kHsmUnavailable, "x")), "Retry-After"), "1");
}

TEST(ErrorResponse, OverloadIs503WithTheGatesRetryAfter) {
  Error error = make_error(Code::kOverloaded, "the signing queue is full (4 waiting)");
  error.retry_after_seconds = 3;
  const Response r = error_response(error);
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "overloaded");
  EXPECT_EQ(header(r, "Retry-After"), "3");
  EXPECT_EQ(header(error_response(make_error(Code::kOverloaded, "x")), "Retry-After"), "1");  // never 0
}

TEST(ErrorResponse, InternalErrorsShowOnlyACorrelationId) {
  const Response r = error_response(make_error(Code::kInternal, "CKR_GENERAL_ERROR at /secret/path"));
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  EXPECT_NE(r.body.find("correlation id"), std::string::npos);
}

}  // namespace
}  // namespace signet::http
