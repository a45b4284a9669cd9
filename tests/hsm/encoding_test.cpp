// The byte encodings hsm/ reads and writes, including the forms SoftHSM2 never produces
// (a bare CKA_EC_POINT, an ECDSA answer with its leading zeros dropped).
#include "hsm/encoding.h"

#include <gtest/gtest.h>

namespace signet::hsm {
namespace {

TEST(EncodingTest, UnwrapsDerAndBareEcPoints) {
  std::string point = "\x04" + std::string(64, '\x11');
  auto bare = unwrap_ec_point(point, 65);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(*bare, point);
  auto der = unwrap_ec_point(std::string("\x04\x41", 2) + point, 65);
  ASSERT_TRUE(der.ok());
  EXPECT_EQ(*der, point);
  auto long_form = unwrap_ec_point(std::string("\x04\x81\x41", 3) + point, 65);
  ASSERT_TRUE(long_form.ok());
  EXPECT_EQ(*long_form, point);

  std::string ed(32, '\x22');
  EXPECT_EQ(*unwrap_ec_point(ed, 32), ed);
  EXPECT_EQ(*unwrap_ec_point(std::string("\x04\x20", 2) + ed, 32), ed);

  EXPECT_FALSE(unwrap_ec_point(std::string("\x04\x40", 2) + point, 65).ok());  // wrong length
  EXPECT_FALSE(unwrap_ec_point(std::string("\x03\x41", 2) + point, 65).ok());  // not OCTET STRING
  EXPECT_FALSE(unwrap_ec_point(point.substr(1), 65).ok());                      // truncated
}

TEST(EncodingTest, EcdsaAnswersBecomeExactly64Bytes) {
  std::string full(64, '\x7f');
  EXPECT_EQ(*ecdsa_p256_fixed_width(full), full);

  // A module that dropped one leading zero byte from both halves.
  std::string r(31, '\x01');
  std::string s(31, '\x02');
  auto padded = ecdsa_p256_fixed_width(r + s);
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(*padded, std::string(1, '\0') + r + std::string(1, '\0') + s);

  EXPECT_FALSE(ecdsa_p256_fixed_width(std::string(63, '\x01')).ok());  // odd: halves unknown
  EXPECT_FALSE(ecdsa_p256_fixed_width(std::string(66, '\x01')).ok());  // longer than P-256
  EXPECT_FALSE(ecdsa_p256_fixed_width("").ok());
}

TEST(EncodingTest, StripsLeadingZeros) {
  EXPECT_EQ(strip_leading_zeros(std::string("\0\0\x01\x00", 4)), std::string("\x01\x00", 2));
  EXPECT_EQ(strip_leading_zeros(std::string("\0", 1)), std::string("\0", 1));
}

TEST(EncodingTest, CurveIdentifiers) {
  EXPECT_EQ(p256_params(), std::string("\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 10));
  EXPECT_EQ(ed25519_params_oid(), std::string("\x06\x03\x2b\x65\x70", 5));
  EXPECT_EQ(ed25519_params_name(), std::string("\x13\x0c" "edwards25519", 14));
}

}  // namespace
}  // namespace signet::hsm
