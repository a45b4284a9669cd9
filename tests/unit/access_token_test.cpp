#include "firmware/issuance/access_token.h"

#include <gtest/gtest.h>

#include "config/config.h"

namespace signet::issuance {
namespace {

TEST(AccessToken, CarriesTheRfc9068TypAndClaims) {
  const config::Profile profile{"service", config::Seconds(300), "svc", "JWT"};
  Grant grant;
  grant.profile = &profile;
  grant.sub = "ai-engine";
  grant.claims = {{"service_name", "x"}};
  make_access_token(grant, "ai-engine");
  EXPECT_EQ(grant.typ, "at+jwt");
  EXPECT_EQ(grant.claims["client_id"], "ai-engine");
  EXPECT_EQ(grant.claims["scope"], "service");
  EXPECT_EQ(grant.claims["service_name"], "x");
}

TEST(AccessToken, ItsClaimsAreReservedForSignet) {
  EXPECT_TRUE(config::is_reserved_claim("client_id"));
  EXPECT_TRUE(config::is_reserved_claim("scope"));
}

}  // namespace
}  // namespace signet::issuance
