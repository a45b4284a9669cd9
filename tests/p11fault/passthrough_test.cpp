// With an empty control file the fault module is invisible: calls reach SoftHSM2 and come back
// unchanged, errors included, through a function list of the module's own.
#include <dlfcn.h>

#include <cstring>
#include <set>

#include "tests/p11fault/fault_fixture.h"

namespace signet::p11fault::testing {
namespace {

using PassThroughTest = FaultModuleTest;

TEST_F(PassThroughTest, GeneratesSignsAndVerifies) {
  KeyPair pair = generate_p256(session_, "pass-through");
  std::vector<unsigned char> signature;
  ASSERT_EQ(sign(session_, pair.private_key, &signature), CKR_OK);
  EXPECT_EQ(signature.size(), 64u);
  EXPECT_EQ(verify(session_, pair.public_key, signature), CKR_OK);
  signature[10] ^= 0x01;
  EXPECT_EQ(verify(session_, pair.public_key, signature), CKR_SIGNATURE_INVALID);

  std::vector<TraceLine> expected = {
      {"C_GenerateKeyPair", "CKR_OK"}, {"C_SignInit", "CKR_OK"},   {"C_Sign", "CKR_OK"},
      {"C_VerifyInit", "CKR_OK"},      {"C_Verify", "CKR_OK"},     {"C_VerifyInit", "CKR_OK"},
      {"C_Verify", "CKR_SIGNATURE_INVALID"},
  };
  EXPECT_EQ(trace(), expected);
}

TEST_F(PassThroughTest, RealErrorsComeBackUnchanged) {
  EXPECT_EQ(p11().C_GetSessionInfo(0x7fff1234, nullptr), CKR_SESSION_HANDLE_INVALID);
  CK_SESSION_INFO info{};
  EXPECT_EQ(p11().C_GetSessionInfo(0x7fff1234, &info), CKR_SESSION_HANDLE_INVALID);
  CK_MECHANISM mechanism{CKM_ECDSA, nullptr, 0};
  CK_RV rv = p11().C_SignInit(session_, &mechanism, 0x7fff1234);
  EXPECT_TRUE(rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID) << rv;
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  EXPECT_EQ(p11().C_Initialize(&args), CKR_CRYPTOKI_ALREADY_INITIALIZED);
  EXPECT_EQ(p11().C_Login(session_, CKU_USER, nullptr, 0), CKR_ARGUMENTS_BAD);
}

TEST_F(PassThroughTest, FunctionListIsTheModulesOwnAndComplete) {
  constexpr std::size_t kEntries = 68;
  static_assert(sizeof(CK_FUNCTION_LIST) ==
                offsetof(CK_FUNCTION_LIST, C_Initialize) + kEntries * sizeof(CK_C_Sign));
  CK_C_Sign ours[kEntries];
  CK_C_Sign theirs[kEntries];
  std::memcpy(ours, &p11().C_Initialize, sizeof ours);
  std::memcpy(theirs, &real_p11().C_Initialize, sizeof theirs);
  std::set<CK_C_Sign> distinct;
  for (std::size_t i = 0; i < kEntries; ++i) {
    EXPECT_NE(ours[i], nullptr) << "entry " << i;
    EXPECT_NE(ours[i], theirs[i]) << "entry " << i << " is the real module's";
    distinct.insert(ours[i]);
  }
  EXPECT_EQ(distinct.size(), kEntries);

  EXPECT_EQ(p11().version.major, real_p11().version.major);
  EXPECT_EQ(p11().version.minor, real_p11().version.minor);
  void* exported = ::dlsym(fault_library(), "C_GetFunctionList");
  EXPECT_EQ(reinterpret_cast<void*>(p11().C_GetFunctionList), exported);
  CK_FUNCTION_LIST* again = nullptr;
  ASSERT_EQ(p11().C_GetFunctionList(&again), CKR_OK);
  EXPECT_EQ(again, &p11());

  CK_INFO info{};
  ASSERT_EQ(p11().C_GetInfo(&info), CKR_OK);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(info.manufacturerID), 7), "SoftHSM");
}

TEST_F(PassThroughTest, ExportsOnlyCGetFunctionList) {
  for (const char* name : {"C_Initialize", "C_Sign", "C_GetInterface", "C_GetInterfaceList"}) {
    EXPECT_EQ(::dlsym(fault_library(), name), nullptr) << name;
  }
}

}  // namespace
}  // namespace signet::p11fault::testing
