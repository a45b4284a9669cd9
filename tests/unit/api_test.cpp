// The error table of docs/API.md, answered by the handlers in-process: each status and code a
// handler (or the route table in front of it) can produce. 413 and the connection limits are
// the server's and are tested over a socket (tests/integration).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <thread>

#include "firmware/audit/ledger.h"
#include "tests/unit/api_fixture.h"

namespace signet::testing {
namespace {

using nlohmann::json;

const json kValid = {{"profile", "access"}, {"sub", "alice"}};

TestRequest post(std::string path, const std::string& key = kWebappKey) {
  TestRequest request;
  request.method = "POST";
  request.path = std::move(path);
  if (!key.empty()) request.bearer(key);
  return request;
}

// Every error body is {"error", "error_description"} and never echoes the credential.
void expect_error(const http::Response& r, unsigned status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  const auto body = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << r.body;
  EXPECT_EQ(body.size(), 2u) << r.body;
  EXPECT_EQ(body.value("error", ""), code) << r.body;
  EXPECT_FALSE(body.value("error_description", "").empty()) << r.body;
  for (const std::string& secret : {kWebappKey, kServiceKey, kOpsKey}) EXPECT_EQ(r.body.find(secret), std::string::npos);
}

class ApiErrors : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(api.started()); }
  Api api;
};

TEST_F(ApiErrors, IssuesATokenWhenAllIsWell) {
  const http::Response r = api.call(post("/v1/tokens").json(kValid));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(header(r, "Cache-Control"), "no-store");
  EXPECT_EQ(json::parse(r.body)["kid"], api.ring().snapshot()->active()->entry.kid);
}

// 400 invalid_request: malformed JSON, wrong field types, unknown profile, bad query value.
TEST_F(ApiErrors, MalformedJsonIs400) {
  for (const std::string body : {"{\"profile\": \"access\", \"sub\":", "not json", "", "[]", "{} trailing"}) {
    TestRequest request = post("/v1/tokens").json(nullptr);
    request.body = body;
    expect_error(api.call(request), 400, "invalid_request");
  }
}

TEST_F(ApiErrors, WrongFieldTypesAndUnknownMembersAre400) {
  expect_error(api.call(post("/v1/tokens").json({{"profile", 5}, {"sub", "alice"}})), 400, "invalid_request");
  expect_error(api.call(post("/v1/tokens").json({{"profile", "access"}, {"sub", "alice"}, {"extra", 1}})), 400,
               "invalid_request");
  expect_error(api.call(post("/v1/tokens").json({{"profile", "access"}})), 400, "invalid_request");
}

TEST_F(ApiErrors, UnknownProfileToVerifyIs400) {
  expect_error(api.call(post("/v1/verify").json({{"token", "a.b.c"}, {"profile", "nope"}})), 400, "invalid_request");
  expect_error(api.call(post("/v1/verify").json({{"audience", "api"}})), 400, "invalid_request");
}

TEST_F(ApiErrors, BadQueryValueIs400) {
  TestRequest request = post("/auth");
  request.query["expired"] = "yes";
  expect_error(api.call(request), 400, "invalid_request");
}

// 401 invalid_client, with the Bearer challenge.
TEST_F(ApiErrors, MissingWrongOrMalformedCredentialsAre401) {
  for (const std::string authorization : {"", "Bearer not-a-key", "Bearer", "Basic d2ViYXBwOnNlY3JldA=="}) {
    TestRequest request = post("/v1/tokens", "").json(kValid);
    if (!authorization.empty()) request.headers["Authorization"] = authorization;
    const http::Response r = api.call(request);
    expect_error(r, 401, "invalid_client");
    EXPECT_EQ(header(r, "WWW-Authenticate"), "Bearer realm=\"signet\"");
  }
}

TEST_F(ApiErrors, OAuthClientWithAWrongSecretIs401WithTheBasicChallenge) {
  TestRequest request = post("/oauth2/token", "");
  request.headers["Authorization"] = "Basic d2ViYXBwOnNlY3JldA==";  // webapp:secret
  request.headers["Content-Type"] = "application/x-www-form-urlencoded";
  request.body = "grant_type=client_credentials";
  const http::Response r = api.call(request);
  expect_error(r, 401, "invalid_client");
  EXPECT_EQ(header(r, "WWW-Authenticate"), "Basic realm=\"signet\"");
  EXPECT_EQ(header(r, "Cache-Control"), "no-store");
}

TEST_F(ApiErrors, OAuthClientWithItsKeyGetsAToken) {
  TestRequest request = post("/oauth2/token", "");
  const std::string credentials = "webapp:" + kWebappKey;
  std::string encoded(4 * ((credentials.size() + 2) / 3) + 1, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), reinterpret_cast<const unsigned char*>(credentials.data()),
                  static_cast<int>(credentials.size()));
  encoded.pop_back();
  request.headers["Authorization"] = "Basic " + encoded;
  request.headers["Content-Type"] = "application/x-www-form-urlencoded";
  request.body = "grant_type=client_credentials&scope=access";
  const http::Response r = api.call(request);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json::parse(r.body)["scope"], "access");
}

// Introspection (RFC 7662) authenticates as the token endpoint does: the route's access, not
// the handler. A token that does not verify is {"active": false} and nothing more. (The fake
// HSM signs nothing for real: an active token is tests/integration/test_oauth_standards.py's.)
TEST_F(ApiErrors, OAuthClientIntrospectsTokens) {
  const std::string credentials = "webapp:" + kWebappKey;
  std::string encoded(4 * ((credentials.size() + 2) / 3) + 1, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), reinterpret_cast<const unsigned char*>(credentials.data()),
                  static_cast<int>(credentials.size()));
  encoded.pop_back();
  const auto introspect = [&](const std::string& authorization, std::string body) {
    TestRequest request = post("/oauth2/introspect", "");
    request.headers["Authorization"] = authorization;
    request.headers["Content-Type"] = "application/x-www-form-urlencoded";
    request.body = std::move(body);
    return api.call(request);
  };
  const http::Response inactive = introspect("Basic " + encoded, "token=not.a.token");
  ASSERT_EQ(inactive.status, 200u) << inactive.body;
  EXPECT_EQ(json::parse(inactive.body), json({{"active", false}}));
  EXPECT_EQ(header(inactive, "Cache-Control"), "no-store");

  expect_error(introspect("Basic " + encoded, "token_type_hint=access_token"), 400, "invalid_request");
  // An API key as Bearer is not OAuth client authentication.
  const http::Response refused = introspect("Bearer " + kWebappKey, "token=not.a.token");
  expect_error(refused, 401, "invalid_client");
  EXPECT_EQ(header(refused, "WWW-Authenticate"), "Basic realm=\"signet\"");
}

TEST_F(ApiErrors, AuthorizationServerMetadataIsPublic) {
  TestRequest request;
  request.path = "/.well-known/oauth-authorization-server";
  const http::Response r = api.call(request);
  ASSERT_EQ(r.status, 200u) << r.body;
  const auto document = json::parse(r.body);
  EXPECT_TRUE(document.contains("issuer")) << r.body;
  EXPECT_TRUE(document.contains("introspection_endpoint")) << r.body;
}

// 403 access_denied: authenticated, but the policy does not allow it.
TEST_F(ApiErrors, WhatThePolicyDoesNotAllowIs403) {
  expect_error(api.call(post("/v1/tokens").json({{"profile", "service"}, {"sub", "alice"}})), 403, "access_denied");
  expect_error(api.call(post("/v1/tokens").json({{"profile", "access"}, {"sub", "a"}, {"claims", {{"iss", "x"}}}})), 403,
               "access_denied");
  expect_error(api.call(post("/v1/tokens").json({{"profile", "access"}, {"sub", "a"}, {"ttl", "2h"}})), 403,
               "access_denied");
  expect_error(api.call(post("/auth", kOpsKey)), 403, "access_denied");      // no profile
  expect_error(api.call(post("/v1/keys/rotate")), 403, "access_denied");     // not an admin
}

TEST_F(ApiErrors, ExpiredTokensOutsideTestModeAre403) {
  TestRequest request = post("/auth");
  request.query["expired"] = "true";
  expect_error(api.call(request), 403, "access_denied");
}

// 404 not_found: no such route, or no such key.
TEST_F(ApiErrors, UnknownRouteAndUnknownKidAre404) {
  TestRequest request;
  request.path = "/v2/nothing";
  expect_error(api.call(request), 404, "not_found");
  expect_error(api.call(post("/v1/keys/no-such-kid/revoke", kOpsKey)), 404, "not_found");
}

// 405 method_not_allowed, with Allow.
TEST_F(ApiErrors, WrongMethodIs405WithAllow) {
  TestRequest request;
  request.path = "/v1/tokens";
  const http::Response r = api.call(request);
  expect_error(r, 405, "method_not_allowed");
  EXPECT_EQ(header(r, "Allow"), "POST");
}

// 415 unsupported_media_type: a body that is not application/json.
TEST_F(ApiErrors, NonJsonBodyIs415) {
  for (const std::string path : {"/v1/tokens", "/v1/verify"}) {
    TestRequest request = post(path).json(kValid);
    request.headers["Content-Type"] = "text/plain";
    expect_error(api.call(request), 415, "unsupported_media_type");
  }
  TestRequest charset = post("/v1/tokens").json(kValid);
  charset.headers["Content-Type"] = "Application/JSON; charset=utf-8";
  EXPECT_EQ(api.call(charset).status, 200u);
}

// 429 rate_limited, with Retry-After: a client over its rate.
TEST(ApiRateLimits, AClientOverItsRateIs429) {
  Api api({.limits = R"({"requests_per_second_per_client": 1})"});
  ASSERT_TRUE(api.started());
  EXPECT_EQ(api.call(post("/v1/tokens").json(kValid)).status, 200u);
  const http::Response r = api.call(post("/v1/tokens").json(kValid));
  expect_error(r, 429, "rate_limited");
  EXPECT_EQ(header(r, "Retry-After"), "1");
}

// 429 for an address in backoff after failed authentications, even with a right key.
TEST(ApiRateLimits, AnAddressInBackoffIs429EvenWithTheRightKey) {
  Api api({.limits = R"({"auth_failures_per_address": 1})"});
  ASSERT_TRUE(api.started());
  EXPECT_EQ(api.call(post("/v1/tokens", "wrong-1").json(kValid)).status, 401u);
  EXPECT_EQ(api.call(post("/v1/tokens", "wrong-2").json(kValid)).status, 401u);  // starts the backoff
  const http::Response r = api.call(post("/v1/tokens").json(kValid));
  expect_error(r, 429, "rate_limited");
  EXPECT_NE(header(r, "Retry-After"), "(absent)");
  TestRequest elsewhere = post("/v1/tokens").json(kValid);
  elsewhere.peer_address = std::string("\x0a\x00\x00\x02", 4);
  EXPECT_EQ(api.call(elsewhere).status, 200u);  // an address that has not failed
  TestRequest jwks;
  jwks.path = "/jwks";
  EXPECT_EQ(api.call(jwks).status, 200u);  // public routes are not concerned
}

// 503 hsm_unavailable, with Retry-After: issuance fails at once; the JWKS answers from memory.
TEST_F(ApiErrors, AnHsmThatCannotSignIs503) {
  api.hsm().fail_sign = true;
  const http::Response r = api.call(post("/v1/tokens").json(kValid));
  expect_error(r, 503, "hsm_unavailable");
  EXPECT_EQ(header(r, "Retry-After"), "1");
  TestRequest jwks;
  jwks.path = "/.well-known/jwks.json";
  EXPECT_EQ(api.call(jwks).status, 200u);
  TestRequest ready;
  ready.path = "/readyz";
  EXPECT_EQ(api.call(ready).status, 503u);
}

// An HSM whose signatures, once held, wait until the test lets them go.
class SlowHsm : public FakeHsm {
 public:
  Result<std::size_t> sign(const hsm::KeyRef& key, std::string_view message, unsigned char* out, std::size_t size) override {
    {
      std::unique_lock lock(mutex_);
      ++signing_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return !held_; });
    }
    return FakeHsm::sign(key, message, out, size);
  }
  void hold() {
    std::lock_guard lock(mutex_);
    held_ = true;
  }
  void wait_until_signing() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return signing_ > 0; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    held_ = false;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int signing_ = 0;
  bool held_ = false;
};

// 503 overloaded, with Retry-After: the one signing slot is busy and no one may wait for it.
TEST(ApiOverload, AFullSigningQueueIs503Overloaded) {
  auto slow = std::make_unique<SlowHsm>();
  SlowHsm& hsm = *slow;
  Api api({.gate = {.concurrency = 1, .max_waiting = 0, .max_wait = std::chrono::milliseconds(50)}}, std::move(slow));
  ASSERT_TRUE(api.started());
  hsm.hold();
  http::Response first;
  std::thread signing([&] { first = api.call(post("/v1/tokens").json(kValid)); });
  hsm.wait_until_signing();
  const http::Response r = api.call(post("/v1/tokens").json(kValid));
  hsm.release();
  signing.join();
  expect_error(r, 503, "overloaded");
  EXPECT_EQ(header(r, "Retry-After"), "1");
  EXPECT_EQ(first.status, 200u) << first.body;
}

// The ledger's head in memory; a write fails while `failing` is set.
class MemoryAnchor : public audit::Anchor {
 public:
  Result<std::optional<audit::Head>> read() override { return head_; }
  Status write(const audit::Head& head) override {
    if (failing) return make_error(Code::kHsmUnavailable, "CKR_DEVICE_REMOVED");
    head_ = head;
    return ok_status();
  }
  std::string where() const override { return "memory"; }
  std::atomic<bool> failing{false};

 private:
  std::optional<audit::Head> head_;
};

// 503 audit_unavailable, with Retry-After: no token without its record in the ledger.
TEST(ApiAudit, ALedgerThatCannotBeWrittenIs503AuditUnavailable) {
  const std::string path = ::testing::TempDir() + "/api_test_audit.log";
  std::filesystem::remove(path);
  MemoryAnchor anchor;
  auto ledger = audit::Ledger::open(path, anchor);
  ASSERT_TRUE(ledger.ok()) << ledger.error().message;
  {
    Api api({.ledger = ledger->get()});
    ASSERT_TRUE(api.started());
    EXPECT_EQ(api.call(post("/v1/tokens").json(kValid)).status, 200u);
    anchor.failing = true;
    const http::Response r = api.call(post("/v1/tokens").json(kValid));
    expect_error(r, 503, "audit_unavailable");
    EXPECT_EQ(header(r, "Retry-After"), "1");
  }
  ledger->reset();
  std::filesystem::remove(path);
}

// An HSM whose data objects cannot be listed for a reason no status names.
class BrokenHsm : public FakeHsm {
 public:
  Result<std::vector<std::pair<std::string, std::string>>> list_data(std::string_view prefix) override {
    if (broken) return make_error(Code::kInternal, "CKR_GENERAL_ERROR at /secret/path");
    return FakeHsm::list_data(prefix);
  }
  std::atomic<bool> broken{false};
};

// 500 internal_error: only a correlation id, which the log also has.
TEST(ApiInternal, AnUnexpectedErrorIs500WithACorrelationIdOnly) {
  auto broken = std::make_unique<BrokenHsm>();
  BrokenHsm& hsm = *broken;
  Api api({}, std::move(broken));
  ASSERT_TRUE(api.started());
  hsm.broken = true;
  TestRequest request;
  request.path = "/v1/keys";
  request.bearer(kOpsKey);
  const http::Response r = api.call(request);
  expect_error(r, 500, "internal_error");
  EXPECT_NE(r.body.find("correlation id"), std::string::npos);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

// Not errors, but what the admin routes answer an admin.
TEST_F(ApiErrors, AnAdminListsTheKeys) {
  TestRequest request;
  request.path = "/v1/keys";
  request.bearer(kOpsKey);
  const http::Response r = api.call(request);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json::parse(r.body)["keys"].size(), api.ring().snapshot()->keys.size());
}

}  // namespace
}  // namespace signet::testing
