// Signing under load: 64 threads on one Hsm never share a session and every signature
// verifies; ES256 answers exactly 64 bytes every time; a session closed behind the pool's back
// is reopened and the sign retried.
#include <atomic>
#include <thread>

#include "tests/hsm/hsm_fixture.h"

namespace signet::hsm::testing {
namespace {

TEST_F(HsmTest, SixtyFourConcurrentEs256SignersAllSucceed) {
  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  constexpr int kThreads = 64;
  constexpr int kSignsPerThread = 20;
  std::atomic<int> failures{0};
  std::atomic<int> bad_signatures{0};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSignsPerThread; ++i) {
        std::string message = "thread " + std::to_string(t) + " message " + std::to_string(i);
        unsigned char out[512];
        auto len = hsm_->sign(key->ref, message, out, sizeof out);
        if (!len.ok()) {
          ++failures;
          errors[t] = len.error().message;
          continue;
        }
        std::string signature(reinterpret_cast<char*>(out), *len);
        if (signature.size() != 64 || !verify_signature(*key, message, signature)) {
          ++bad_signatures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  for (const auto& e : errors) EXPECT_TRUE(e.empty()) << e;
  EXPECT_EQ(bad_signatures.load(), 0);
}

TEST_F(HsmTest, Es256SignaturesAreAlways64Bytes) {
  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  int wrong_size = 0;
  int leading_zero_halves = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string message = "message " + std::to_string(i);
    std::string signature = sign(*key, message);
    if (signature.size() != 64) {
      ++wrong_size;
      continue;
    }
    if (signature[0] == '\0' || signature[32] == '\0') ++leading_zero_halves;
    // Verifying all 2000 is cheap enough and catches misplaced padding.
    if (i % 10 == 0 || signature[0] == '\0' || signature[32] == '\0') {
      ASSERT_TRUE(verify_signature(*key, message, signature)) << i;
    }
  }
  EXPECT_EQ(wrong_size, 0);
  // With 4000 halves, about 16 start with a zero byte: the padding path is exercised.
  EXPECT_GT(leading_zero_halves, 0);
}

TEST_F(HsmTest, OutBufferTooSmallIsAnErrorAndTheSessionStaysUsable) {
  auto key = hsm_->generate_key(SignScheme::kRsaPkcs1Sha256, 2048);
  ASSERT_TRUE(key.ok()) << key.error().message;
  unsigned char small[16];
  auto len = hsm_->sign(key->ref, "m", small, sizeof small);
  ASSERT_FALSE(len.ok());
  EXPECT_EQ(len.error().code, Code::kInternal);
  // Many signs afterwards: whichever session ran the failed sign, none is left mid-operation.
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE(verify_signature(*key, "m", sign(*key, "m")));
  }
}

TEST_F(HsmTest, SessionClosedBehindThePoolIsReopenedAndTheSignRetried) {
  auto key = hsm_->generate_key(SignScheme::kEd25519, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  ASSERT_FALSE(sign(*key, "warm up").empty());
  auto p11 = raw();
  ASSERT_NE(p11, nullptr);
  // The pool's sessions are the read-write ones (the login session and ours are read-only).
  // In one process every session handle is visible, so close them all from outside.
  int closed = 0;
  for (CK_SESSION_HANDLE h = 1; h < 4096; ++h) {
    CK_SESSION_INFO info{};
    if (p11->api().C_GetSessionInfo(h, &info) == CKR_OK && info.state == CKS_RW_USER_FUNCTIONS) {
      EXPECT_EQ(p11->api().C_CloseSession(h), CKR_OK);
      ++closed;
    }
  }
  ASSERT_GT(closed, 0);
  for (int i = 0; i < 10; ++i) {
    std::string message = "after close " + std::to_string(i);
    EXPECT_TRUE(verify_signature(*key, message, sign(*key, message)));
  }
  EXPECT_TRUE(hsm_->check_health().ok());
  auto keys = hsm_->list_keys();
  EXPECT_TRUE(keys.ok());
}

TEST_F(HsmTest, PoolOfOneSessionServesManyThreads) {
  hsm_.reset();
  auto hsm = open_hsm(token_->user_pin(), 1);
  ASSERT_TRUE(hsm.ok()) << hsm.error().message;
  hsm_ = std::move(hsm).value();
  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        unsigned char out[512];
        if (!hsm_->sign(key->ref, "shared", out, sizeof out).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace signet::hsm::testing
