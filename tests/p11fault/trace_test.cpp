// The trace file: one `<function> <CKR_NAME>` line per call, with the code the caller got
// (forwarded or injected), so tests can count logins and their results.
#include "tests/p11fault/fault_fixture.h"

namespace signet::p11fault::testing {
namespace {

using TraceTest = FaultModuleTest;

TEST_F(TraceTest, CountsLoginsAndTheirResults) {
  write_control("fail C_Login CKR_PIN_INCORRECT every 2\n");
  EXPECT_EQ(p11().C_Logout(session_), CKR_OK);
  EXPECT_EQ(login(session_), CKR_OK);
  EXPECT_EQ(p11().C_Logout(session_), CKR_OK);
  EXPECT_EQ(login(session_), CKR_PIN_INCORRECT);
  write_control("fail C_GenerateRandom 0x80000042\n");
  unsigned char bytes[4];
  EXPECT_EQ(p11().C_GenerateRandom(session_, bytes, sizeof bytes), CK_RV{0x80000042});

  std::vector<TraceLine> expected = {
      {"C_Logout", "CKR_OK"},
      {"C_Login", "CKR_OK"},
      {"C_Logout", "CKR_OK"},
      {"C_Login", "CKR_PIN_INCORRECT"},
      {"C_GenerateRandom", "0x80000042"},
  };
  EXPECT_EQ(trace(), expected);
}

TEST_F(TraceTest, RecordsSetupCallsToo) {
  CK_INFO info{};
  ASSERT_EQ(p11().C_GetInfo(&info), CKR_OK);
  CK_FUNCTION_LIST* list = nullptr;
  ASSERT_EQ(p11().C_GetFunctionList(&list), CKR_OK);
  std::vector<TraceLine> expected = {{"C_GetInfo", "CKR_OK"}, {"C_GetFunctionList", "CKR_OK"}};
  EXPECT_EQ(trace(), expected);
}

}  // namespace
}  // namespace signet::p11fault::testing
