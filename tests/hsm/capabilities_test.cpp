// What hsm/ learns about a token (hsm/capabilities.h, Binding) and how it copes with one that is
// not SoftHSM2 as Signet first knew it: the same SoftHSM2 token reached through p11-kit's
// remoting (`p11-kit server` + p11-kit-client.so), which hides the mechanisms it cannot carry
// (EdDSA, SHA256-RSA-PKCS-PSS in p11-kit 0.24) and answers CKR_DEVICE_ERROR when asked for
// CKA_ALLOWED_MECHANISMS, although it passes the attribute on when a key is made.
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/hsm/hsm_fixture.h"

extern char** environ;

namespace signet::hsm::testing {
namespace {

constexpr const char* kP11KitClient = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so";
constexpr const char* kP11Kit = "/usr/bin/p11-kit";

bool has_scheme(const TokenProfile& profile, SignScheme scheme) {
  return std::find(profile.schemes.begin(), profile.schemes.end(), scheme) != profile.schemes.end();
}

bool by_token(const TokenProfile& profile, std::string_view name) {
  for (const Guarantee& g : guarantees(profile)) {
    if (g.name == name) return g.by_token;
  }
  ADD_FAILURE() << "no guarantee named " << name;
  return false;
}

TEST_F(HsmTest, SoftHsmOffersEverySchemeAndReportsTheBinding) {
  TokenProfile before = hsm_->token_profile();
  EXPECT_EQ(before.manufacturer, "SoftHSM project");
  for (SignScheme scheme : {SignScheme::kRsaPkcs1Sha256, SignScheme::kRsaPssSha256,
                            SignScheme::kEcdsaP256Sha256, SignScheme::kEd25519}) {
    EXPECT_TRUE(has_scheme(before, scheme)) << scheme_name(scheme);
  }
  EXPECT_TRUE(before.missing.empty());
  // Nothing read yet: not counted as enforced.
  EXPECT_EQ(before.allowed_mechanisms, Binding::kUnknown);
  EXPECT_FALSE(by_token(before, "allowed_mechanisms"));

  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_TRUE(key->mechanism_bound);
  const TokenProfile after = hsm_->token_profile();
  EXPECT_EQ(after.allowed_mechanisms, Binding::kEnforced);
  for (const Guarantee& g : guarantees(after)) EXPECT_TRUE(g.by_token) << g.name;
}

// `p11-kit server` exporting the fixture's token on a socket of its own, and the environment that
// points p11-kit-client.so at it. Stopped (by its pid) when the test ends.
class RemotedTokenTest : public HsmTest {
 protected:
  void SetUp() override {
    if (access(kP11Kit, X_OK) != 0 || access(kP11KitClient, R_OK) != 0) {
      GTEST_SKIP() << "p11-kit server or p11-kit-client.so is not installed (Debian packages p11-kit, "
                      "p11-kit-modules)";
    }
    HsmTest::SetUp();
    hsm_.reset();  // this test opens its own Hsm, through the client module
    socket_ = token_->dir() + "/p11-kit.sock";
    const std::string provider = std::string("--provider=") + token_->module_path();
    const std::string name = "--name=" + socket_;
    const std::string uri = "pkcs11:token=" + token_->label();
    const char* argv[] = {kP11Kit, "server", "--foreground", provider.c_str(), name.c_str(), uri.c_str(), nullptr};
    ASSERT_EQ(posix_spawn(&server_, kP11Kit, nullptr, nullptr, const_cast<char**>(argv), environ), 0);
    for (int i = 0; i < 100 && !std::filesystem::exists(socket_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(std::filesystem::exists(socket_)) << "p11-kit server made no socket at " << socket_;
    setenv("P11_KIT_SERVER_ADDRESS", ("unix:path=" + socket_).c_str(), 1);
  }

  void TearDown() override {
    hsm_.reset();
    if (server_ > 0) {
      kill(server_, SIGTERM);
      waitpid(server_, nullptr, 0);
    }
    unsetenv("P11_KIT_SERVER_ADDRESS");
    HsmTest::TearDown();
  }

  Result<std::unique_ptr<Hsm>> open_remote(std::optional<SignScheme> scheme) {
    Options options;
    options.module_path = kP11KitClient;
    options.token_label = token_->label();
    options.pin = SecretString(token_->user_pin());
    options.scheme = scheme;
    return Hsm::open(std::move(options));
  }

  std::string socket_;
  pid_t server_ = 0;
};

TEST_F(RemotedTokenTest, KeysWhoseBindingIsNotReportedStillSignAndAreSaidToBeUnbound) {
  for (SignScheme scheme : {SignScheme::kEcdsaP256Sha256, SignScheme::kRsaPkcs1Sha256}) {
    SCOPED_TRACE(scheme_name(scheme));
    auto hsm = open_remote(scheme);
    ASSERT_TRUE(hsm.ok()) << hsm.error().message;
    hsm_ = std::move(*hsm);
    auto key = hsm_->generate_key(scheme, 2048);
    ASSERT_TRUE(key.ok()) << key.error().message;
    EXPECT_FALSE(key->mechanism_bound);
    EXPECT_TRUE(key->local && key->always_sensitive && key->never_extractable);
    EXPECT_TRUE(verify_signature(*key, "remoted", sign(*key, "remoted")));

    // The CKR_DEVICE_ERROR of the unreadable attribute is not a lost token.
    auto keys = hsm_->list_keys();
    ASSERT_TRUE(keys.ok()) << keys.error().message;
    ASSERT_FALSE(keys->empty());
    for (const KeyInfo& listed : *keys) EXPECT_FALSE(listed.mechanism_bound);
    EXPECT_EQ(hsm_->health().state, Health::kReady);
    EXPECT_EQ(hsm_->health().faults, 0u);

    const TokenProfile profile = hsm_->token_profile();
    EXPECT_EQ(profile.allowed_mechanisms, Binding::kNotReported);
    EXPECT_FALSE(by_token(profile, "allowed_mechanisms"));
    EXPECT_TRUE(by_token(profile, "never_extractable"));
    hsm_.reset();
  }
}

// Key type alone cannot tell RS256 from PS256: an unbound RSA key is read as the configured scheme.
TEST_F(RemotedTokenTest, UnboundRsaKeysAreReadAsTheConfiguredScheme) {
  auto hsm = open_remote(SignScheme::kRsaPkcs1Sha256);
  ASSERT_TRUE(hsm.ok()) << hsm.error().message;
  hsm_ = std::move(*hsm);
  auto key = hsm_->generate_key(SignScheme::kRsaPkcs1Sha256, 2048);
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto keys = hsm_->list_keys();
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].scheme, SignScheme::kRsaPkcs1Sha256);
}

TEST_F(RemotedTokenTest, ASchemeWhoseMechanismIsHiddenIsRefusedByName) {
  auto eddsa = open_remote(SignScheme::kEd25519);
  ASSERT_FALSE(eddsa.ok());
  EXPECT_EQ(eddsa.error().code, Code::kHsmModule);
  EXPECT_NE(eddsa.error().message.find("cannot sign EdDSA"), std::string::npos) << eddsa.error().message;
  EXPECT_NE(eddsa.error().message.find("CKM_EDDSA"), std::string::npos) << eddsa.error().message;

  auto ps256 = open_remote(SignScheme::kRsaPssSha256);
  ASSERT_FALSE(ps256.ok());
  EXPECT_NE(ps256.error().message.find("CKM_SHA256_RSA_PKCS_PSS"), std::string::npos) << ps256.error().message;

  // Without a configured scheme the token opens, and says what it lacks.
  auto any = open_remote(std::nullopt);
  ASSERT_TRUE(any.ok()) << any.error().message;
  const TokenProfile profile = (*any)->token_profile();
  EXPECT_TRUE(has_scheme(profile, SignScheme::kEcdsaP256Sha256));
  EXPECT_TRUE(has_scheme(profile, SignScheme::kRsaPkcs1Sha256));
  EXPECT_FALSE(has_scheme(profile, SignScheme::kEd25519));
  EXPECT_EQ(profile.missing.size(), 2u);
}

}  // namespace
}  // namespace signet::hsm::testing
