#include "firmware/oauth/introspection.h"

#include <gtest/gtest.h>

namespace signet::oauth {
namespace {

TEST(OAuthIntrospection, AnInvalidTokenIsOnlyInactive) {
  for (auto reason : {verify::Reason::kExpired, verify::Reason::kBadSignature, verify::Reason::kMalformed}) {
    verify::VerifyResult result;
    result.reason = reason;
    result.kid = "k1";
    EXPECT_EQ(introspection_response(result).dump(), R"({"active":false})");
  }
}

TEST(OAuthIntrospection, AValidTokenHasItsClaimsAtTheTopLevel) {
  verify::VerifyResult result;
  result.valid = true;
  result.reason = verify::Reason::kOk;
  result.claims = {{"iss", "https://i"}, {"sub", "svc"}, {"aud", "api"}, {"exp", 20}, {"iat", 10}, {"nbf", 10},
                   {"jti", "j"}, {"type", "access"}, {"client_id", "svc"}, {"scope", "access"}, {"roles", {"r"}}};
  const auto answer = introspection_response(result);
  EXPECT_EQ(answer["active"], true);
  EXPECT_EQ(answer.begin().key(), "active");
  for (const auto& [name, value] : result.claims.items()) EXPECT_EQ(answer[name], value) << name;
  EXPECT_EQ(answer["token_type"], "Bearer");
}

TEST(OAuthIntrospection, ATokenWithoutScopeReportsItsProfile) {
  verify::VerifyResult result;
  result.valid = true;
  result.claims = {{"sub", "alice"}, {"type", "editor"}, {"token_type", "forged"}, {"active", false}};
  const auto answer = introspection_response(result);
  EXPECT_EQ(answer["scope"], "editor");
  EXPECT_EQ(answer["token_type"], "Bearer");
  EXPECT_EQ(answer["active"], true);
}

}  // namespace
}  // namespace signet::oauth
