#include "hsm/token_selector.h"

#include <gtest/gtest.h>

namespace signet::hsm {
namespace {

std::string padded(std::string text, std::size_t size) {
  text.resize(size, ' ');
  return text;
}

TEST(TokenSelector, EveryGivenAttributeMustMatch) {
  const std::string label = padded("signet", 32), serial = padded("0a1b", 16);
  EXPECT_TRUE(TokenSelector("signet").matches(3, label, serial));
  EXPECT_FALSE(TokenSelector("signe").matches(3, label, serial));
  EXPECT_FALSE(TokenSelector("signet2").matches(3, label, serial));
  EXPECT_TRUE(TokenSelector("", "0a1b").matches(3, label, serial));
  EXPECT_FALSE(TokenSelector("", "0a1").matches(3, label, serial));
  EXPECT_TRUE(TokenSelector("", "", 3).matches(3, label, serial));
  EXPECT_FALSE(TokenSelector("signet", "", 4).matches(3, label, serial));
  EXPECT_TRUE(TokenSelector("signet", "0a1b", 3).matches(3, label, serial));
}

TEST(TokenSelector, DescribesItselfForMessages) {
  EXPECT_EQ(TokenSelector("signet").describe(), "labelled 'signet'");
  EXPECT_EQ(TokenSelector("", "0a1b", 3).describe(), "with serial '0a1b' in slot 3");
}

}  // namespace
}  // namespace signet::hsm
