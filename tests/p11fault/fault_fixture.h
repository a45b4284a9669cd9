// The fixture of the fault module's tests: a fresh SoftHSM2 token per test, reached through
// libsignet-p11fault.so (dlopen'ed directly, plain PKCS#11 calls), logged in on one read-write
// session; plus the control and trace files the module was pointed at. The module reads its
// environment once, so those two paths are per process and every test starts them empty.
#pragma once

#include <gtest/gtest.h>
#include <p11-kit/pkcs11.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/softhsm_token.h"

namespace signet::p11fault::testing {

// One line of the trace file: function and code name.
using TraceLine = std::pair<std::string, std::string>;

class FaultModuleTest : public ::testing::Test {
 public:
  // The fault module's function list (C_GetFunctionList of libsignet-p11fault.so).
  static CK_FUNCTION_LIST& p11();
  // The real module's list, through a dlopen of SoftHSM2 that shares the fault module's copy.
  static CK_FUNCTION_LIST& real_p11();
  // The dlopen handle of libsignet-p11fault.so.
  static void* fault_library();

 protected:
  struct KeyPair {
    CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE private_key = CK_INVALID_HANDLE;
  };

  void SetUp() override;
  void TearDown() override;

  // Replaces the control file at once (temporary file + rename), as p11fault.py does.
  static void write_control(const std::string& text);
  static std::vector<TraceLine> trace();
  static void clear_trace();
  // A reboot generation above every one used before in this process.
  static std::int64_t next_reboot_generation();

  CK_SESSION_HANDLE open_session();
  CK_RV login(CK_SESSION_HANDLE session);
  // A token EC P-256 key pair (private, sensitive, CKA_SIGN) whose CKA_ID is `id`.
  KeyPair generate_p256(CK_SESSION_HANDLE session, const std::string& id);
  // C_SignInit (CKM_ECDSA) and C_Sign of a 32-byte digest: the first code that is not CKR_OK.
  CK_RV sign(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key,
             std::vector<unsigned char>* signature = nullptr);
  CK_RV verify(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key,
               const std::vector<unsigned char>& signature);
  std::optional<CK_OBJECT_HANDLE> find_private_key(CK_SESSION_HANDLE session,
                                                   const std::string& id);

  std::optional<signet::testing::SoftHsmToken> token_;
  bool initialized_ = false;
  CK_SLOT_ID slot_ = 0;
  CK_SESSION_HANDLE session_ = CK_INVALID_HANDLE;  // read-write, logged in as the user
};

}  // namespace signet::p11fault::testing
