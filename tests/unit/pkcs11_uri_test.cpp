#include "config/pkcs11_uri.h"

#include <gtest/gtest.h>

namespace signet::config {
namespace {

TokenSelection select(std::string_view text) {
  auto uri = parse_pkcs11_uri(text);
  EXPECT_TRUE(uri.ok()) << text << ": " << (uri.ok() ? "" : uri.error().message);
  if (!uri.ok()) return {};
  auto selection = token_selection(*uri);
  EXPECT_TRUE(selection.ok()) << text << ": " << (selection.ok() ? "" : selection.error().message);
  return selection.ok() ? *selection : TokenSelection{};
}

std::string refusal(std::string_view text) {
  auto uri = parse_pkcs11_uri(text);
  if (!uri.ok()) return uri.error().message;
  auto selection = token_selection(*uri);
  EXPECT_FALSE(selection.ok()) << text;
  return selection.ok() ? "" : selection.error().message;
}

TEST(Pkcs11Uri, ParsesPathAndQueryInOrder) {
  auto uri = parse_pkcs11_uri("pkcs11:token=My%20Token;serial=1234?module-path=/usr/lib/softhsm/libsofthsm2.so");
  ASSERT_TRUE(uri.ok());
  ASSERT_EQ(uri->path.size(), 2u);
  EXPECT_EQ(uri->path[0], (std::pair<std::string, std::string>{"token", "My Token"}));
  EXPECT_EQ(uri->path[1].second, "1234");
  EXPECT_EQ(uri->query[0].second, "/usr/lib/softhsm/libsofthsm2.so");
}

TEST(Pkcs11Uri, SelectsByTokenSerialSlotAndModule) {
  EXPECT_EQ(select("pkcs11:token=signet").label, "signet");
  EXPECT_EQ(select("PKCS11:serial=0a1b2c3d4e5f").serial, "0a1b2c3d4e5f");
  EXPECT_EQ(select("pkcs11:slot-id=1234567").slot_id, 1234567u);
  const auto all = select("pkcs11:token=a;serial=b;slot-id=0?module-path=/lib/m.so");
  EXPECT_EQ(all.label, "a");
  EXPECT_EQ(all.slot_id, 0u);
  EXPECT_EQ(all.module_path, "/lib/m.so");
}

TEST(Pkcs11Uri, RefusesMalformedUris) {
  for (const char* bad : {"token=signet", "pkcs11:token", "pkcs11:token=a;token=b", "pkcs11:token=a%2",
                          "pkcs11:token=a%zz", "pkcs11:token=a b", "pkcs11:=x"}) {
    EXPECT_FALSE(parse_pkcs11_uri(bad).ok()) << bad;
  }
}

TEST(Pkcs11Uri, RefusesWhatItCannotHonour) {
  EXPECT_NE(refusal("pkcs11:token=signet?pin-value=1234").find("PIN"), std::string::npos);
  EXPECT_NE(refusal("pkcs11:token=signet?pin-source=file:/x").find("PIN"), std::string::npos);
  EXPECT_NE(refusal("pkcs11:token=signet;object=key").find("names an object"), std::string::npos);
  EXPECT_NE(refusal("pkcs11:token=signet;manufacturer=SoftHSM").find("manufacturer"), std::string::npos);
  EXPECT_NE(refusal("pkcs11:token=signet?module-name=softhsm2").find("module-name"), std::string::npos);
  EXPECT_NE(refusal("pkcs11:token=signet?module-path=relative.so").find("absolute"), std::string::npos);
  EXPECT_NE(refusal("pkcs11:slot-id=x1").find("decimal"), std::string::npos);
  EXPECT_NE(refusal("pkcs11:token=123456789012345678901234567890123").find("32"), std::string::npos);
  EXPECT_NE(refusal("pkcs11:").find("select a token"), std::string::npos);
}

}  // namespace
}  // namespace signet::config
