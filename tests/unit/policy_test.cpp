#include "firmware/issuance/policy.h"

#include <gtest/gtest.h>

namespace signet::issuance {
namespace {

using Json = nlohmann::ordered_json;
using config::Seconds;

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.profiles = {{"access", Seconds(3600), "platxa-api", "at+jwt"},
                        {"editor", Seconds(8 * 3600), std::nullopt, "JWT"},
                        {"service", Seconds(300), "platxa-internal", "JWT"}};
    client_.id = "webapp";
    client_.profiles = {"access", "editor"};
    client_.audiences = {"platxa-api", "sidecar-*"};
    client_.max_ttl = Seconds(4 * 3600);
    client_.claims = {"user_id", "roles"};
  }

  Result<Grant> decide_json(const std::string& body) {
    auto request = parse_token_request(Json::parse(body));
    if (!request.ok()) return request.error();
    return decide(config_, client_, std::move(*request));
  }

  Code refusal(const std::string& body) {
    auto grant = decide_json(body);
    EXPECT_FALSE(grant.ok()) << body;
    return grant.ok() ? Code::kInternal : grant.error().code;
  }

  config::Config config_;
  config::Client client_;
};

TEST_F(PolicyTest, GrantsWithinPolicy) {
  auto grant = decide_json(R"({"profile":"access","sub":"u1","ttl":"10m","claims":{"user_id":7,"roles":["a"]}})");
  ASSERT_TRUE(grant.ok()) << grant.error().message;
  EXPECT_EQ(grant->profile->name, "access");
  EXPECT_EQ(grant->sub, "u1");
  EXPECT_EQ(grant->aud, "platxa-api");  // the profile's audience
  EXPECT_EQ(grant->ttl, Seconds(600));
  EXPECT_EQ(grant->claims.dump(), R"({"user_id":7,"roles":["a"]})");
}

TEST_F(PolicyTest, DefaultTtlIsTheProfilesWithinTheClientsMax) {
  EXPECT_EQ(decide_json(R"({"profile":"access","sub":"u"})")->ttl, Seconds(3600));
  EXPECT_EQ(decide_json(R"({"profile":"editor","sub":"u","aud":"platxa-api"})")->ttl, Seconds(4 * 3600));
}

TEST_F(PolicyTest, TtlAboveALimitIsRefusedNotCut) {
  EXPECT_EQ(refusal(R"({"profile":"access","sub":"u","ttl":"2h"})"), Code::kPermissionDenied);
  EXPECT_EQ(refusal(R"({"profile":"editor","sub":"u","aud":"platxa-api","ttl":"5h"})"), Code::kPermissionDenied);
  EXPECT_TRUE(decide_json(R"({"profile":"editor","sub":"u","aud":"platxa-api","ttl":"4h"})").ok());
}

TEST_F(PolicyTest, Audiences) {
  EXPECT_EQ(decide_json(R"({"profile":"access","sub":"u","aud":"sidecar-7"})")->aud, "sidecar-7");
  EXPECT_EQ(refusal(R"({"profile":"access","sub":"u","aud":"sidecar"})"), Code::kPermissionDenied);
  EXPECT_EQ(refusal(R"({"profile":"access","sub":"u","aud":"platxa-api2"})"), Code::kPermissionDenied);
  EXPECT_EQ(refusal(R"({"profile":"access","sub":"u","aud":"Platxa-api"})"), Code::kPermissionDenied);
  // A profile without an audience needs one in the request.
  EXPECT_EQ(refusal(R"({"profile":"editor","sub":"u"})"), Code::kInvalidArgument);
}

TEST_F(PolicyTest, ProfilesAndClaims) {
  EXPECT_EQ(refusal(R"({"profile":"nope","sub":"u"})"), Code::kInvalidArgument);
  EXPECT_EQ(refusal(R"({"profile":"service","sub":"u"})"), Code::kPermissionDenied);
  EXPECT_EQ(refusal(R"({"profile":"access","sub":"u","claims":{"partner_id":3}})"), Code::kPermissionDenied);
  for (const char* reserved : {"iss", "sub", "aud", "iat", "nbf", "exp", "jti", "type"}) {
    client_.claims.push_back(reserved);  // even a misconfigured allow-list cannot let them through
    EXPECT_EQ(refusal(std::string(R"({"profile":"access","sub":"u","claims":{")") + reserved + R"(":1}})"),
              Code::kPermissionDenied)
        << reserved;
  }
}

TEST_F(PolicyTest, MalformedRequests) {
  for (const char* body : {R"([])", R"({"sub":"u"})", R"({"profile":"access"})", R"({"profile":7,"sub":"u"})",
                           R"({"profile":"access","sub":""})", R"({"profile":"access","sub":"u","ttl":600})",
                           R"({"profile":"access","sub":"u","ttl":"10 minutes"})",
                           R"({"profile":"access","sub":"u","claims":[]})",
                           R"({"profile":"access","sub":"u","header":{"alg":"none"}})",
                           R"({"profile":"access","sub":"u","iss":"evil"})"}) {
    EXPECT_EQ(refusal(body), Code::kInvalidArgument) << body;
  }
}

TEST(AudienceAllowed, ExactOrTrailingWildcard) {
  const std::vector<std::string> patterns = {"api", "sidecar-*"};
  EXPECT_TRUE(audience_allowed(patterns, "api"));
  EXPECT_TRUE(audience_allowed(patterns, "sidecar-"));
  EXPECT_TRUE(audience_allowed(patterns, "sidecar-x"));
  EXPECT_FALSE(audience_allowed(patterns, "ap"));
  EXPECT_FALSE(audience_allowed(patterns, "api "));
  EXPECT_FALSE(audience_allowed(patterns, "sidecar"));
  EXPECT_FALSE(audience_allowed({}, "api"));
}

}  // namespace
}  // namespace signet::issuance
