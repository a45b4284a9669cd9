// Hsm::open against a real token: the distinct errors for a missing module, an unknown label
// and a wrong PIN (one C_Login, token not locked afterwards), and health.
#include <fstream>
#include <sstream>

#include "tests/hsm/hsm_fixture.h"

namespace signet::hsm::testing {
namespace {

#ifndef SIGNET_PKCS11_SPY
#define SIGNET_PKCS11_SPY "/usr/lib/x86_64-linux-gnu/pkcs11-spy.so"
#endif

std::size_t count_occurrences(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

TEST_F(HsmTest, OpensAndIsHealthy) {
  EXPECT_TRUE(hsm_->check_health().ok());
  auto keys = hsm_->list_keys();
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_TRUE(keys->empty());
}

TEST_F(HsmTest, MissingModuleIsHsmModule) {
  hsm_.reset();
  Options options;
  options.module_path = "/nonexistent/libnothing.so";
  options.token_label = token_->label();
  options.pin = SecretString(token_->user_pin());
  auto hsm = Hsm::open(std::move(options));
  ASSERT_FALSE(hsm.ok());
  EXPECT_EQ(hsm.error().code, Code::kHsmModule);
  EXPECT_NE(hsm.error().message.find("/nonexistent/libnothing.so"), std::string::npos);
  EXPECT_NE(hsm.error().message.find("No such file"), std::string::npos) << hsm.error().message;
}

TEST_F(HsmTest, LibraryWithoutPkcs11IsHsmModule) {
  hsm_.reset();
  Options options;
  options.module_path = "libz.so.1";
  options.token_label = token_->label();
  options.pin = SecretString(token_->user_pin());
  auto hsm = Hsm::open(std::move(options));
  ASSERT_FALSE(hsm.ok());
  EXPECT_EQ(hsm.error().code, Code::kHsmModule);
  EXPECT_NE(hsm.error().message.find("not a PKCS#11 module"), std::string::npos);
}

TEST_F(HsmTest, UnknownLabelIsTokenNotFound) {
  hsm_.reset();
  Options options;
  options.module_path = token_->module_path();
  options.token_label = "no-such-token";
  options.pin = SecretString(token_->user_pin());
  auto hsm = Hsm::open(std::move(options));
  ASSERT_FALSE(hsm.ok());
  EXPECT_EQ(hsm.error().code, Code::kHsmTokenNotFound);
  EXPECT_NE(hsm.error().message.find("'no-such-token'"), std::string::npos);
}

TEST_F(HsmTest, FindsTheRightTokenAmongSeveral) {
  hsm_.reset();
  ASSERT_TRUE(token_->add_token("other-token", "9999").ok());
  Options options;
  options.module_path = token_->module_path();
  options.token_label = "other-token";
  options.pin = SecretString("9999");
  auto other = Hsm::open(std::move(options));
  ASSERT_TRUE(other.ok()) << other.error().message;
  auto key = (*other)->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok());
  other.value().reset();

  auto hsm = open_hsm(token_->user_pin());
  ASSERT_TRUE(hsm.ok()) << hsm.error().message;
  auto keys = (*hsm)->list_keys();
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());  // the key went to the other token
}

TEST_F(HsmTest, WrongPinIsOneLoginAndDoesNotLockTheToken) {
  hsm_.reset();
  std::string spy_log = token_->dir() + "/spy.log";
  ::setenv("PKCS11SPY", token_->module_path(), 1);
  ::setenv("PKCS11SPY_OUTPUT", spy_log.c_str(), 1);
  keep_module_mapped(SIGNET_PKCS11_SPY);  // after the setenv: the spy reads it once per load
  Options options;
  options.module_path = SIGNET_PKCS11_SPY;
  options.token_label = token_->label();
  options.pin = SecretString("0000-wrong");
  auto hsm = Hsm::open(std::move(options));
  ::unsetenv("PKCS11SPY");
  ::unsetenv("PKCS11SPY_OUTPUT");
  ASSERT_FALSE(hsm.ok());
  EXPECT_EQ(hsm.error().code, Code::kHsmPin);
  EXPECT_NE(hsm.error().message.find("PIN"), std::string::npos);
  EXPECT_NE(hsm.error().message.find("CKR_PIN_INCORRECT"), std::string::npos);
  EXPECT_EQ(hsm.error().message.find("0000-wrong"), std::string::npos);
  EXPECT_NE(hsm.error().message.find(token_->label()), std::string::npos);

  std::ifstream in(spy_log);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(count_occurrences(text.str(), "C_Login"), 1u) << text.str();
  EXPECT_EQ(count_occurrences(text.str(), "C_Initialize"), 1u);
  EXPECT_EQ(count_occurrences(text.str(), "C_Finalize"), 1u);

  {
    auto p11 = raw();
    ASSERT_NE(p11, nullptr);
    EXPECT_EQ(p11->token_flags() & CKF_USER_PIN_LOCKED, 0u);
  }
  auto good = open_hsm(token_->user_pin());
  ASSERT_TRUE(good.ok()) << good.error().message;
}

TEST_F(HsmTest, EmptyPinIsRefusedWithoutLogin) {
  hsm_.reset();
  auto hsm = open_hsm("");
  ASSERT_FALSE(hsm.ok());
  EXPECT_EQ(hsm.error().code, Code::kHsmPin);
}

TEST_F(HsmTest, TwoHsmsOnOneTokenShareTheLogin) {
  auto second = open_hsm(token_->user_pin());
  ASSERT_TRUE(second.ok()) << second.error().message;
  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok());
  // The second one sees the key, and closing it does not log the first one out.
  auto keys = (*second)->list_keys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  second.value().reset();
  EXPECT_TRUE(hsm_->check_health().ok());
  EXPECT_TRUE(verify_signature(*key, "still", sign(*key, "still")));
}

TEST_F(HsmTest, MaxSessionsOutOfRangeIsConfig) {
  auto none = open_hsm(token_->user_pin(), 0);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Code::kConfig);
}

}  // namespace
}  // namespace signet::hsm::testing
