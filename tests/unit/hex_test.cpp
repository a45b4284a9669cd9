#include "base/hex.h"

#include <gtest/gtest.h>

namespace signet {
namespace {

TEST(Hex, EncodesLowercaseTwoDigitsPerByte) {
  EXPECT_EQ(hex::encode(std::string("\x00\xab\xff\x10", 4)), "00abff10");
  EXPECT_EQ(hex::encode(""), "");
  const unsigned char bytes[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  EXPECT_EQ(hex::encode(bytes, sizeof bytes), "0123456789abcdef");
}

TEST(Hex, DecodesEitherCaseAndRoundTrips) {
  EXPECT_EQ(hex::decode("00abff10"), std::string("\x00\xab\xff\x10", 4));
  EXPECT_EQ(hex::decode("00ABFF10"), std::string("\x00\xab\xff\x10", 4));
  EXPECT_EQ(hex::decode(""), std::string());
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(hex::decode(hex::encode(all)), all);
}

TEST(Hex, RefusesWhatIsNotWholeBytesOfHex) {
  for (const char* bad : {"0", "abc", "0g", "g0", "zz", " 0", "00 ", "0x00", "-1", "1\n", "ab:cd"}) {
    EXPECT_EQ(hex::decode(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(hex::decode(std::string_view("\0\0", 2)), std::nullopt);
}

TEST(Hex, DigitValuesAndLowercaseCheck) {
  EXPECT_EQ(hex::digit_value('0'), 0);
  EXPECT_EQ(hex::digit_value('9'), 9);
  EXPECT_EQ(hex::digit_value('a'), 10);
  EXPECT_EQ(hex::digit_value('F'), 15);
  EXPECT_EQ(hex::digit_value('g'), -1);
  EXPECT_EQ(hex::digit_value('/'), -1);
  EXPECT_TRUE(hex::is_lowercase("0123456789abcdef"));
  EXPECT_TRUE(hex::is_lowercase(""));
  EXPECT_FALSE(hex::is_lowercase("ABCDEF"));
  EXPECT_FALSE(hex::is_lowercase("12 4"));
}

}  // namespace
}  // namespace signet
