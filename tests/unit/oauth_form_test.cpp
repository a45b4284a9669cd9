#include "firmware/oauth/form.h"

#include "http/message.h"

#include <gtest/gtest.h>

namespace signet::oauth {
namespace {

TEST(OAuthForm, DecodesPlusAndPercent) {
  EXPECT_EQ(form_decode("a+b%21%2Bc"), "a b!+c");
  EXPECT_FALSE(form_decode("%2"));
  EXPECT_FALSE(form_decode("%zz"));
}

TEST(OAuthForm, ParsesParameters) {
  const auto form = parse_form("grant_type=client_credentials&scope=access+editor&&empty=");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->at("grant_type"), "client_credentials");
  EXPECT_EQ(form->at("scope"), "access editor");
  EXPECT_EQ(form->at("empty"), "");
}

TEST(OAuthForm, RefusesARepeatedParameterAndBrokenEscapes) {
  EXPECT_FALSE(parse_form("token=a&token=b"));
  EXPECT_FALSE(parse_form("token=%4"));
}

TEST(OAuthForm, RecognisesTheMediaType) {
  using http::is_media_type;
  using http::kFormMediaType;
  EXPECT_TRUE(is_media_type("application/x-www-form-urlencoded", kFormMediaType));
  EXPECT_TRUE(is_media_type("Application/X-WWW-Form-Urlencoded; charset=UTF-8", kFormMediaType));
  EXPECT_FALSE(is_media_type("application/json", kFormMediaType));
  EXPECT_FALSE(is_media_type("application/x-www-form-urlencodedx", kFormMediaType));
  EXPECT_FALSE(is_media_type(std::nullopt, kFormMediaType));
  EXPECT_TRUE(is_media_type("APPLICATION/JSON ; charset=utf-8", http::kJsonMediaType));
}

}  // namespace
}  // namespace signet::oauth
