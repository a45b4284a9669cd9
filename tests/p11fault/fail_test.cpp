// `fail` lines: a matching call answers the code without reaching the token, only on the calls
// `every`/`after` pick, and the token works again once the line is gone.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "tests/p11fault/fault_fixture.h"

namespace signet::p11fault::testing {
namespace {

using FailTest = FaultModuleTest;

CK_RV random_call(CK_SESSION_HANDLE session) {
  unsigned char bytes[8];
  return FaultModuleTest::p11().C_GenerateRandom(session, bytes, sizeof bytes);
}

TEST_F(FailTest, SignFailsWithTheCodeUntilTheLineGoes) {
  KeyPair pair = generate_p256(session_, "fail-sign");
  write_control("fail C_Sign CKR_DEVICE_ERROR\n");
  CK_MECHANISM mechanism{CKM_ECDSA, nullptr, 0};
  ASSERT_EQ(p11().C_SignInit(session_, &mechanism, pair.private_key), CKR_OK);
  unsigned char digest[32] = {1, 2, 3};
  unsigned char signature[72];
  CK_ULONG length = sizeof signature;
  EXPECT_EQ(p11().C_Sign(session_, digest, sizeof digest, signature, &length), CKR_DEVICE_ERROR);

  write_control("");
  // The failed C_Sign never reached SoftHSM2: the operation C_SignInit began is still there.
  length = sizeof signature;
  EXPECT_EQ(p11().C_Sign(session_, digest, sizeof digest, signature, &length), CKR_OK);
  EXPECT_EQ(length, 64u);
  EXPECT_EQ(sign(session_, pair.private_key), CKR_OK);
}

TEST_F(FailTest, EveryThirdCallFails) {
  KeyPair pair = generate_p256(session_, "every-3");
  write_control("fail C_SignInit CKR_DEVICE_ERROR every 3\n");
  std::vector<CK_RV> seen;
  for (int i = 0; i < 9; ++i) seen.push_back(sign(session_, pair.private_key));
  std::vector<CK_RV> expected;
  for (int i = 0; i < 3; ++i) expected.insert(expected.end(), {CKR_OK, CKR_OK, CKR_DEVICE_ERROR});
  EXPECT_EQ(seen, expected);
}

TEST_F(FailTest, AfterLetsTheFirstCallsThrough) {
  write_control("fail C_GenerateRandom CKR_DEVICE_MEMORY every 2 after 3\n");
  std::vector<CK_RV> seen;
  for (int i = 0; i < 8; ++i) seen.push_back(random_call(session_));
  std::vector<CK_RV> expected = {CKR_OK, CKR_OK,            CKR_OK, CKR_OK,
                                 CKR_DEVICE_MEMORY, CKR_OK, CKR_DEVICE_MEMORY, CKR_OK};
  EXPECT_EQ(seen, expected);
}

TEST_F(FailTest, StarFailsEverythingButTheSetupFunctions) {
  write_control("fail * CKR_DEVICE_REMOVED\n");
  CK_SESSION_INFO session_info{};
  EXPECT_EQ(p11().C_GetSessionInfo(session_, &session_info), CKR_DEVICE_REMOVED);
  CK_TOKEN_INFO token_info{};
  EXPECT_EQ(p11().C_GetTokenInfo(slot_, &token_info), CKR_DEVICE_REMOVED);
  EXPECT_EQ(random_call(session_), CKR_DEVICE_REMOVED);
  CK_INFO info{};
  EXPECT_EQ(p11().C_GetInfo(&info), CKR_OK);
  write_control("");
  EXPECT_EQ(p11().C_GetSessionInfo(session_, &session_info), CKR_OK);
  EXPECT_EQ(session_info.state, CKS_RW_USER_FUNCTIONS);
}

TEST_F(FailTest, FailedCallsDoNotReachTheToken) {
  KeyPair pair = generate_p256(session_, "not-destroyed");
  write_control("fail C_DestroyObject,C_Logout CKR_DEVICE_ERROR\n");
  EXPECT_EQ(p11().C_DestroyObject(session_, pair.private_key), CKR_DEVICE_ERROR);
  EXPECT_EQ(p11().C_Logout(session_), CKR_DEVICE_ERROR);
  write_control("");
  EXPECT_EQ(find_private_key(session_, "not-destroyed"), pair.private_key);
  CK_SESSION_INFO info{};
  ASSERT_EQ(p11().C_GetSessionInfo(session_, &info), CKR_OK);
  EXPECT_EQ(info.state, CKS_RW_USER_FUNCTIONS);  // still logged in
}

TEST_F(FailTest, FirstRuleThatFailsWinsAndHexCodesWork) {
  write_control(
      "this line is not a directive\n"
      "fail C_Bogus CKR_DEVICE_ERROR\n"
      "fail C_GenerateRandom 0x80000042 every 2\n"
      "fail C_GenerateRandom CKR_GENERAL_ERROR\n");
  std::vector<CK_RV> seen;
  for (int i = 0; i < 4; ++i) seen.push_back(random_call(session_));
  std::vector<CK_RV> expected = {CKR_GENERAL_ERROR, 0x80000042, CKR_GENERAL_ERROR, 0x80000042};
  EXPECT_EQ(seen, expected);
  CK_SESSION_INFO info{};
  EXPECT_EQ(p11().C_GetSessionInfo(session_, &info), CKR_OK);  // the C_Bogus line is ignored
}

TEST_F(FailTest, CountsCarryOverWhenTheFileChangesForAnotherReason) {
  write_control("fail C_GenerateRandom CKR_DEVICE_ERROR every 3\n");
  EXPECT_EQ(random_call(session_), CKR_OK);
  EXPECT_EQ(random_call(session_), CKR_OK);
  write_control("latency_ms 1 C_Sign\nfail C_GenerateRandom CKR_DEVICE_ERROR every 3\n");
  EXPECT_EQ(random_call(session_), CKR_DEVICE_ERROR);
}

TEST_F(FailTest, TokenNotPresentEmptiesTheSlotListOfPresentTokens) {
  write_control("fail C_GetSlotList CKR_TOKEN_NOT_PRESENT\n");
  CK_ULONG count = 99;
  EXPECT_EQ(p11().C_GetSlotList(CK_TRUE, nullptr, &count), CKR_OK);
  EXPECT_EQ(count, 0u);
  count = 0;
  EXPECT_EQ(p11().C_GetSlotList(CK_FALSE, nullptr, &count), CKR_OK);  // the slots remain
  EXPECT_GT(count, 0u);
  write_control("fail C_GetSlotList CKR_DEVICE_ERROR\n");
  EXPECT_EQ(p11().C_GetSlotList(CK_TRUE, nullptr, &count), CKR_DEVICE_ERROR);
  std::vector<TraceLine> expected = {{"C_GetSlotList", "CKR_OK"},
                                     {"C_GetSlotList", "CKR_OK"},
                                     {"C_GetSlotList", "CKR_DEVICE_ERROR"}};
  EXPECT_EQ(trace(), expected);
}

TEST_F(FailTest, ManyThreadsWhileTheControlFileChanges) {
  constexpr int kThreads = 8;
  constexpr int kCalls = 300;
  std::vector<CK_SESSION_HANDLE> sessions;
  for (int i = 0; i < kThreads; ++i) sessions.push_back(open_session());
  std::atomic<int> unexpected{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, session = sessions[t]] {
      for (int i = 0; i < kCalls; ++i) {
        CK_RV rv = random_call(session);
        if (rv != CKR_OK && rv != CKR_DEVICE_ERROR) ++unexpected;
      }
    });
  }
  std::thread writer([&] {
    for (int i = 0; i < 200 && !done; ++i) {
      write_control(i % 2 == 0 ? "fail C_GenerateRandom CKR_DEVICE_ERROR every 2\n" : "");
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  for (std::thread& thread : threads) thread.join();
  done = true;
  writer.join();
  EXPECT_EQ(unexpected.load(), 0);
  write_control("");
  for (CK_SESSION_HANDLE session : sessions) EXPECT_EQ(random_call(session), CKR_OK);
  std::vector<TraceLine> lines = trace();
  auto random_lines = std::count_if(lines.begin(), lines.end(), [](const TraceLine& line) {
    return line.first == "C_GenerateRandom";
  });
  EXPECT_EQ(random_lines, kThreads * kCalls + kThreads);  // one whole line per call
}

}  // namespace
}  // namespace signet::p11fault::testing
