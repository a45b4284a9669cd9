// `reboot <GENERATION>`: a rise of the generation closes every real session before the next
// call, as an HSM that rebooted would: old session handles are dead, new sessions start logged
// out, and private key handles must be found again after the new login.
#include "tests/p11fault/fault_fixture.h"

namespace signet::p11fault::testing {
namespace {

using RebootTest = FaultModuleTest;

CK_STATE session_state(CK_SESSION_HANDLE session) {
  CK_SESSION_INFO info{};
  EXPECT_EQ(FaultModuleTest::p11().C_GetSessionInfo(session, &info), CKR_OK);
  return info.state;
}

TEST_F(RebootTest, DropsSessionsLoginAndPrivateKeyHandles) {
  KeyPair pair = generate_p256(session_, "survives-reboot");
  ASSERT_EQ(sign(session_, pair.private_key), CKR_OK);

  write_control("reboot " + std::to_string(next_reboot_generation()) + "\n");
  CK_SESSION_INFO info{};
  EXPECT_EQ(p11().C_GetSessionInfo(session_, &info), CKR_SESSION_HANDLE_INVALID);

  CK_SESSION_HANDLE session = open_session();
  EXPECT_EQ(session_state(session), CKS_RW_PUBLIC_SESSION);  // logged out
  ASSERT_EQ(login(session), CKR_OK);
  EXPECT_EQ(session_state(session), CKS_RW_USER_FUNCTIONS);

  CK_RV old_handle = sign(session, pair.private_key);
  EXPECT_TRUE(old_handle == CKR_KEY_HANDLE_INVALID || old_handle == CKR_OBJECT_HANDLE_INVALID)
      << "signing with the pre-reboot handle answered " << old_handle;
  std::optional<CK_OBJECT_HANDLE> found = find_private_key(session, "survives-reboot");
  ASSERT_TRUE(found.has_value());  // the token object itself survives
  EXPECT_EQ(sign(session, *found), CKR_OK);
}

TEST_F(RebootTest, EachGenerationActsOnce) {
  std::int64_t generation = next_reboot_generation();
  write_control("reboot " + std::to_string(generation) + "\n");
  CK_SESSION_HANDLE session = open_session();  // the reboot happens before this call
  ASSERT_EQ(login(session), CKR_OK);

  // The same generation in a rewritten file, and a lower one, do nothing.
  write_control("# rewritten\nreboot " + std::to_string(generation) + "\n");
  EXPECT_EQ(session_state(session), CKS_RW_USER_FUNCTIONS);
  write_control("reboot " + std::to_string(generation - 1) + "\n");
  EXPECT_EQ(session_state(session), CKS_RW_USER_FUNCTIONS);
  write_control("");
  EXPECT_EQ(session_state(session), CKS_RW_USER_FUNCTIONS);

  write_control("reboot " + std::to_string(next_reboot_generation()) + "\n");
  CK_SESSION_INFO info{};
  EXPECT_EQ(p11().C_GetSessionInfo(session, &info), CKR_SESSION_HANDLE_INVALID);
}

}  // namespace
}  // namespace signet::p11fault::testing
