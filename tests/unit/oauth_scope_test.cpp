#include "firmware/oauth/scope.h"

#include <gtest/gtest.h>

namespace signet::oauth {
namespace {

TEST(OAuthScope, SplitsOnSingleSpacesAndKeepsEachTokenOnce) {
  auto tokens = parse_scope("access editor access");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(*tokens, (std::vector<std::string>{"access", "editor"}));
}

TEST(OAuthScope, RefusesWhatTheGrammarDoesNotAllow) {
  for (const char* bad : {"", " access", "access ", "access  editor", "acc\"ess", "acc\\ess", "acc\tess", "caf\xc3\xa9"}) {
    auto tokens = parse_scope(bad);
    ASSERT_FALSE(tokens.ok()) << bad;
    EXPECT_EQ(tokens.error().code, Code::kInvalidArgument);
  }
}

class ProfileForRequest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_.id = "webapp";
    client_.profiles = {"access", "editor"};
  }
  config::Client client_;
};

TEST_F(ProfileForRequest, TheScopeNamesTheProfile) {
  EXPECT_EQ(*profile_for_request(client_, "editor", std::nullopt), "editor");
  EXPECT_EQ(*profile_for_request(client_, "editor editor", "editor"), "editor");
}

TEST_F(ProfileForRequest, WithoutScopeTheProfileParameterOrTheFirstProfile) {
  EXPECT_EQ(*profile_for_request(client_, std::nullopt, "editor"), "editor");
  EXPECT_EQ(*profile_for_request(client_, std::nullopt, std::nullopt), "access");
}

TEST_F(ProfileForRequest, TwoProfilesCannotBeOneToken) {
  auto profile = profile_for_request(client_, "access editor", std::nullopt);
  ASSERT_FALSE(profile.ok());
  EXPECT_NE(profile.error().message.find("access, editor"), std::string::npos) << profile.error().message;
}

TEST_F(ProfileForRequest, ScopeAndProfileMustAgree) {
  EXPECT_FALSE(profile_for_request(client_, "access", "editor").ok());
}

TEST_F(ProfileForRequest, AClientWithoutProfilesMustSayWhich) {
  client_.profiles.clear();
  EXPECT_FALSE(profile_for_request(client_, std::nullopt, std::nullopt).ok());
}

}  // namespace
}  // namespace signet::oauth
