// Shared by the hsm/ tests: a fixture with a fresh SoftHSM2 token and an open Hsm, raw PKCS#11
// access to the same token (to inspect what hsm/ hides: attributes, other sessions), and
// OpenSSL verification of signatures against a KeyInfo's public half.
#pragma once

#include <gtest/gtest.h>
#include <p11-kit/pkcs11.h>

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "hsm/hsm.h"
#include "tests/support/softhsm_token.h"

namespace signet::hsm {
// So that GoogleTest names parameters "ES256" rather than printing their bytes.
void PrintTo(SignScheme scheme, std::ostream* os);
}  // namespace signet::hsm

namespace signet::hsm::testing {

// The module through its own dlopen handle: in one process this is the same library, the same
// Cryptoki state and the same login as the Hsm's. Finalizes only if it initialized.
class RawP11 {
 public:
  // Opens a session (read-only, no login) on the token with this label; nullptr on failure.
  static std::unique_ptr<RawP11> open(const std::string& module_path, const std::string& label);
  ~RawP11();

  CK_FUNCTION_LIST& api() { return *api_; }
  CK_SESSION_HANDLE session() const { return session_; }
  CK_SLOT_ID slot() const { return slot_; }
  CK_FLAGS token_flags();

  CK_RV get_attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type, std::string* value);
  std::optional<bool> get_bool(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
  std::vector<CK_OBJECT_HANDLE> find(CK_OBJECT_CLASS object_class, const std::string* id);

 private:
  void* library_ = nullptr;
  CK_FUNCTION_LIST* api_ = nullptr;
  bool owns_init_ = false;
  CK_SLOT_ID slot_ = 0;
  CK_SESSION_HANDLE session_ = CK_INVALID_HANDLE;
};

// Whether `signature` over `message` verifies with the public half in `key`, by OpenSSL.
bool verify_signature(const KeyInfo& key, const std::string& message,
                      const std::string& signature);

// In sanitizer builds, keeps a PKCS#11 module loaded for the rest of the process so that
// LeakSanitizer can attribute (and suppress) the module's own leaks; a no-op otherwise.
void keep_module_mapped(const char* path);

class HsmTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Opens an Hsm on the fixture's token.
  Result<std::unique_ptr<Hsm>> open_hsm(const std::string& pin, std::size_t max_sessions = 32);
  std::unique_ptr<RawP11> raw();
  // Signs through hsm_ and answers the signature bytes (empty on failure, with a test failure).
  std::string sign(const KeyInfo& key, const std::string& message);

  std::optional<signet::testing::SoftHsmToken> token_;
  std::unique_ptr<Hsm> hsm_;
};

}  // namespace signet::hsm::testing
