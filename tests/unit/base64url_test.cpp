#include "firmware/jose/base64url.h"

#include <gtest/gtest.h>

namespace signet::jose {
namespace {

TEST(Base64url, EncodesWithoutPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64url, RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    const std::string encoded = base64url_encode(bytes);
    EXPECT_EQ(encoded.size(), base64url_encoded_size(bytes.size()));
    const auto decoded = base64url_decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << n;
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<char>(n * 37 + 11));
  }
}

TEST(Base64url, RejectsNonCanonicalInput) {
  EXPECT_EQ(*base64url_decode("Zm8"), "fo");
  EXPECT_FALSE(base64url_decode("Zm9="));   // a set unused bit
  EXPECT_FALSE(base64url_decode("Zm8="));   // padding
  EXPECT_FALSE(base64url_decode("Zg=="));   // padding
  EXPECT_FALSE(base64url_decode("Zh"));     // unused bits not zero ("Zg" is canonical)
  EXPECT_FALSE(base64url_decode("Z"));      // a length no byte string has
  EXPECT_FALSE(base64url_decode("+_8"));    // the base64 (not url) alphabet
  EXPECT_FALSE(base64url_decode("-/8"));
  EXPECT_FALSE(base64url_decode("Zm 9v"));  // whitespace
  EXPECT_FALSE(base64url_decode("Zm9v\n"));
  EXPECT_FALSE(base64url_decode(std::string("Zm\0v", 4)));
}

}  // namespace
}  // namespace signet::jose
