// `latency_ms` lines: matching calls wait before they are answered, forwarded or failed.
// Only lower bounds are asserted: a loaded machine may add any delay of its own.
#include <chrono>

#include "tests/p11fault/fault_fixture.h"

namespace signet::p11fault::testing {
namespace {

using LatencyTest = FaultModuleTest;
using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

TEST_F(LatencyTest, DelaysTheNamedFunction) {
  KeyPair pair = generate_p256(session_, "slow");
  write_control("latency_ms 200 C_Sign\n");
  CK_MECHANISM mechanism{CKM_ECDSA, nullptr, 0};
  ASSERT_EQ(p11().C_SignInit(session_, &mechanism, pair.private_key), CKR_OK);
  unsigned char digest[32] = {7};
  unsigned char signature[72];
  CK_ULONG length = sizeof signature;
  Clock::time_point start = Clock::now();
  EXPECT_EQ(p11().C_Sign(session_, digest, sizeof digest, signature, &length), CKR_OK);
  EXPECT_GE(since(start).count(), 200);
  EXPECT_EQ(length, 64u);
}

TEST_F(LatencyTest, WithoutFunctionsDelaysEveryCall) {
  write_control("latency_ms 100\n");
  CK_SESSION_INFO info{};
  Clock::time_point start = Clock::now();
  EXPECT_EQ(p11().C_GetSessionInfo(session_, &info), CKR_OK);
  EXPECT_GE(since(start).count(), 100);
}

TEST_F(LatencyTest, DelaysFailedCallsToo) {
  write_control("latency_ms 150 C_GenerateRandom\nfail C_GenerateRandom CKR_DEVICE_ERROR\n");
  unsigned char bytes[4];
  Clock::time_point start = Clock::now();
  EXPECT_EQ(p11().C_GenerateRandom(session_, bytes, sizeof bytes), CKR_DEVICE_ERROR);
  EXPECT_GE(since(start).count(), 150);
}

}  // namespace
}  // namespace signet::p11fault::testing
