// The catch-alls at the edges where an exception must stop (base/catch_all.h): a handler that
// throws answers a 500 with a correlation id, and a rotation step that throws is a failed tick
// after which the job goes on.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>

#include "firmware/ring/key_ring.h"
#include "firmware/ring/rotation_job.h"
#include "http/router.h"
#include "tests/unit/fake_hsm.h"
#include "tests/unit/manual_clock.h"

namespace signet {
namespace {

std::optional<std::string_view> no_values(const void*, http::Request::Part, std::string_view) { return std::nullopt; }

http::Response get(const http::Router& router, std::string_view path) {
  return router.dispatch(http::Request("GET", path, "", &no_values, nullptr));
}

// The id a 500's description names; empty when it names none.
std::string correlation_id(const http::Response& r) {
  const auto body = nlohmann::json::parse(r.body);
  std::smatch match;
  const std::string description = body.value("error_description", "");
  static const std::regex kId("correlation id ([0-9a-f]{16})$");
  return std::regex_search(description, match, kId) ? match[1].str() : std::string();
}

TEST(CatchAll, HandlerThatThrowsAnswers500WithACorrelationIdAndALogLine) {
  http::Router router;
  router.add("GET", "/boom", [](const http::Request&) -> http::Response { throw std::runtime_error("kaboom"); });
  router.add("GET", "/odd", [](const http::Request&) -> http::Response { throw 42; });
  router.add("GET", "/fine", [](const http::Request&) { return http::json_response(200, "{}"); });

  ::testing::internal::CaptureStderr();
  const http::Response boom = get(router, "/boom");
  const std::string log = ::testing::internal::GetCapturedStderr();

  EXPECT_EQ(boom.status, 500u);
  EXPECT_EQ(nlohmann::json::parse(boom.body)["error"], "internal_error");
  const std::string id = correlation_id(boom);
  ASSERT_FALSE(id.empty()) << boom.body;
  EXPECT_EQ(boom.body.find("kaboom"), std::string::npos) << "what it threw stays in the log";
  EXPECT_NE(log.find("internal_error"), std::string::npos) << log;
  EXPECT_NE(log.find(id), std::string::npos) << "the log line holds the id the client saw: " << log;
  EXPECT_NE(log.find("kaboom"), std::string::npos) << log;
  EXPECT_NE(log.find("GET /boom"), std::string::npos) << "the log names the route: " << log;

  // Not a std::exception: the same answer, with a fresh id.
  const http::Response odd = get(router, "/odd");
  EXPECT_EQ(odd.status, 500u);
  EXPECT_FALSE(correlation_id(odd).empty());
  EXPECT_NE(correlation_id(odd), id);

  // The router goes on, and counts the 500s by route.
  EXPECT_EQ(get(router, "/fine").status, 200u);
  std::string metrics;
  router.render_metrics(metrics);
  EXPECT_NE(metrics.find("route=\"GET /boom\",status=\"500\"} 1"), std::string::npos) << metrics;
}

// A token whose list_keys throws on demand, as a bug in a layer under the ring would.
class ThrowingHsm : public testing::FakeHsm {
 public:
  std::atomic<bool> throw_on_list{false};
  std::atomic<int> lists{0};

  Result<std::vector<hsm::KeyInfo>> list_keys() override {
    ++lists;
    if (throw_on_list) throw std::runtime_error("list_keys exploded");
    return FakeHsm::list_keys();
  }
};


TEST(CatchAll, RotationStepThatThrowsIsAFailedTickAndTheJobGoesOn) {
  ThrowingHsm hsm;
  ring::RingOptions options;
  options.algorithm = jose::Alg::kES256;
  options.typs = {"JWT"};
  options.replica = "r1";
  testing::ManualClock clock(1000);  // the lease settles at once
  ring::KeyRing ring(hsm, options, clock);
  ring::LifecyclePolicy policy;
  policy.refresh_interval = 1;
  ring::RotationJob job(ring, policy);
  ASSERT_TRUE(job.start(std::chrono::seconds(5)).ok());
  const auto before = ring.snapshot();
  ASSERT_NE(before->active(), nullptr);
  const std::uint64_t failed_before = job.failed_ticks();

  hsm.throw_on_list = true;
  job.run_tick(std::chrono::seconds(10));
  job.run_tick(std::chrono::seconds(10));
  EXPECT_GE(job.failed_ticks(), failed_before + 2) << "the throwing ticks ran and counted as failed";
  EXPECT_NE(job.last_failure().find("list_keys exploded"), std::string::npos) << job.last_failure();
  ASSERT_NE(ring.snapshot()->active(), nullptr);
  EXPECT_EQ(ring.snapshot()->active()->entry.kid, before->active()->entry.kid);

  // The thread is alive: once the token behaves, ticks run and succeed again.
  hsm.throw_on_list = false;
  job.run_tick(std::chrono::seconds(10));
  const std::uint64_t failed_after = job.failed_ticks();
  const int lists_after = hsm.lists;
  job.run_tick(std::chrono::seconds(10));
  EXPECT_GT(hsm.lists.load(), lists_after) << "the job still ticks";
  EXPECT_EQ(job.failed_ticks(), failed_after) << "and its ticks succeed";
  EXPECT_EQ(ring.snapshot()->active()->entry.kid, before->active()->entry.kid);
}

}  // namespace
}  // namespace signet
