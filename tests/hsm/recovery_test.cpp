// The recovering Hsm against a real SoftHSM2 token reached through libsignet-p11fault.so: a
// rebooted token (sessions, login and handles lost), a failing device, a PIN refused at the
// re-login, a full token, a token that is not there at start, and the logged-out view that must
// never read as "empty". See tests/p11fault/README.md for the control file.
//
// The fault module reads its environment once per process, so the first test to run sets it
// and loads the module for good; each test then rewrites the control file and the trace.
#include <dlfcn.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "tests/hsm/hsm_fixture.h"
#include "tests/p11fault/fault_files.h"

#ifndef SIGNET_P11FAULT_PATH
#error "SIGNET_P11FAULT_PATH: the built libsignet-p11fault.so (set by CMake)"
#endif

namespace signet::hsm::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Per process: the module, pointed at fault_files() and loaded once, never unloaded (its
// reboot generation is per load).
struct FaultProcess {
  FaultProcess() {
    error = p11fault::testing::fault_files().error;
    if (!error.empty()) return;
    keep_module_mapped(signet::testing::softhsm_module_path());
    library = ::dlopen(SIGNET_P11FAULT_PATH, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) error = std::string("dlopen " SIGNET_P11FAULT_PATH ": ") + ::dlerror();
  }
  std::string error;
  void* library = nullptr;
};

FaultProcess& fault_process() {
  static FaultProcess instance;
  return instance;
}

// Reboot generations only go up within a process.
int next_reboot_generation() {
  static int generation = 0;
  return ++generation;
}

void write_control(const std::string& text) {
  ASSERT_TRUE(p11fault::testing::write_control(text)) << "cannot replace " << p11fault::testing::fault_files().control;
}

void clear_trace() { p11fault::testing::clear_trace(); }

std::vector<std::string> trace_lines() { return p11fault::testing::read_trace(); }

std::size_t count_trace(const std::string& function, const std::string& code = "") {
  std::size_t count = 0;
  for (const auto& line : trace_lines()) {
    if (code.empty() ? line.rfind(function + " ", 0) == 0 : line == function + " " + code) ++count;
  }
  return count;
}

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

class RecoveryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fault_process(); }

  void SetUp() override {
    ASSERT_TRUE(fault_process().error.empty()) << fault_process().error;
    write_control("");
    clear_trace();
    auto token = signet::testing::SoftHsmToken::create();
    ASSERT_TRUE(token.ok()) << token.error().message;
    token_.emplace(std::move(token).value());
  }

  void TearDown() override {
    hsm_.reset();
    write_control("");
    token_.reset();
  }

  Options options(bool wait_for_token = false) {
    Options o;
    o.module_path = SIGNET_P11FAULT_PATH;
    o.token_label = token_->label();
    o.pin = SecretString(token_->user_pin());
    o.pin_source = [this]() -> Result<SecretString> {
      pin_calls_.fetch_add(1);
      return SecretString(wrong_pin_.load() ? std::string("0000-wrong") : token_->user_pin());
    };
    o.max_sessions = 4;
    o.wait_for_token = wait_for_token;
    return o;
  }

  void open(bool wait_for_token = false) {
    auto hsm = Hsm::open(options(wait_for_token));
    ASSERT_TRUE(hsm.ok()) << hsm.error().message;
    hsm_ = std::move(hsm).value();
  }

  // Opens the token with the record signet:usage:r1 = "...1 old" in it, and answers the control
  // line that makes the token full as it is now: not one object more fits, as in an HSM with a
  // fixed number of object slots. Empty, with a failure recorded, when the token cannot be read.
  std::string open_with_a_record_and_no_room() {
    open();
    if (Status written = hsm_->write_data("signet:usage:r1", "00000000000000000001 old"); !written.ok()) {
      ADD_FAILURE() << written.error().message;
      return "";
    }
    auto objects = hsm_->list_data("");
    auto keys = hsm_->list_keys();
    if (!objects.ok() || !keys.ok()) {
      ADD_FAILURE() << (objects.ok() ? keys.error().message : objects.error().message);
      return "";
    }
    return "capacity " + std::to_string(objects->size() + 2 * keys->size()) + "\n";
  }

  // Polls health() until it is `state`, for at most `limit`. Answers whether it got there.
  bool wait_for(Health state, milliseconds limit = milliseconds(15000)) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (hsm_->health().state == state) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return hsm_->health().state == state;
  }

  Result<std::string> sign_with(const KeyRef& ref, const std::string& message) {
    unsigned char out[512];
    auto length = hsm_->sign(ref, message, out, sizeof out);
    if (!length.ok()) return length.error();
    return std::string(reinterpret_cast<char*>(out), *length);
  }

  std::optional<signet::testing::SoftHsmToken> token_;
  std::unique_ptr<Hsm> hsm_;
  std::atomic<int> pin_calls_{0};
  std::atomic<bool> wrong_pin_{false};
};

// (a) A reboot: the old key reference fails fast as unavailable, the Hsm recovers by itself
// with a PIN from its source, and the same reference signs again (found anew by CKA_ID).
TEST_F(RecoveryTest, RebootRecoversAndOldKeyRefSignsAgain) {
  open();
  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  ASSERT_TRUE(hsm_->write_data("signet:test", "hello").ok());
  auto before = sign_with(key->ref, "before");
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_TRUE(verify_signature(*key, "before", *before));
  const HealthReport first = hsm_->health();
  EXPECT_EQ(first.state, Health::kReady);
  EXPECT_EQ(first.recoveries, 0u);
  EXPECT_EQ(pin_calls_.load(), 0) << "the first login uses Options::pin";

  // The login takes a moment after the reboot, so that kRecovering can be seen.
  write_control("reboot " + std::to_string(next_reboot_generation()) + "\nlatency_ms 700 C_Login\n");
  const auto start = Clock::now();
  auto during = sign_with(key->ref, "during");
  const auto took = ms_since(start);
  ASSERT_FALSE(during.ok());
  EXPECT_EQ(during.error().code, Code::kHsmUnavailable) << during.error().message;
  EXPECT_GE(during.error().retry_after_seconds, 1);
  EXPECT_LT(took, 1000) << "a lost login fails fast";
  EXPECT_EQ(hsm_->health().state, Health::kRecovering);
  auto while_recovering = sign_with(key->ref, "during");
  ASSERT_FALSE(while_recovering.ok());
  EXPECT_EQ(while_recovering.error().code, Code::kHsmUnavailable);

  ASSERT_TRUE(wait_for(Health::kReady)) << hsm_->health().reason;
  const HealthReport after = hsm_->health();
  EXPECT_GT(after.generation, first.generation);
  EXPECT_EQ(after.recoveries, 1u);
  EXPECT_EQ(pin_calls_.load(), 1) << "the re-login reads the PIN from its source, once";
  EXPECT_TRUE(after.reason.empty());

  auto again = sign_with(key->ref, "again");  // the KeyRef of the first generation
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(verify_signature(*key, "again", *again));
  EXPECT_TRUE(hsm_->health().signed_since_recovery);
  auto keys = hsm_->list_keys();
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(keys->front().id, key->id);
  EXPECT_EQ(keys->front().ref.generation, after.generation);
  auto data = hsm_->read_data("signet:test");
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(*data, "hello");

  // The new connection is sound: it stays up under use, with no further recovery.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(hsm_->check_health().ok()) << i;
    auto signed_again = sign_with(key->ref, "steady");
    ASSERT_TRUE(signed_again.ok()) << i << ": " << signed_again.error().message;
    ASSERT_TRUE(hsm_->read_data("signet:test").ok()) << i;
  }
  EXPECT_EQ(hsm_->health().state, Health::kReady);
  EXPECT_EQ(hsm_->health().recoveries, 1u);
  EXPECT_EQ(pin_calls_.load(), 1);
}

// Signers in flight when the token reboots: each answer is a signature or kHsmUnavailable,
// never an internal error, and signing resumes by itself.
TEST_F(RecoveryTest, ConcurrentSignersThroughARebootSeeOnlyUnavailable) {
  open();
  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  std::atomic<bool> stop{false};
  std::atomic<int> good_after_recovery{0};
  std::mutex mutex;
  std::vector<std::string> unexpected;
  std::vector<std::thread> signers;
  for (int t = 0; t < 4; ++t) {
    signers.emplace_back([&] {
      while (!stop.load()) {
        auto signature = sign_with(key->ref, "concurrent");
        if (signature.ok()) {
          if (!verify_signature(*key, "concurrent", *signature)) {
            std::lock_guard lock(mutex);
            unexpected.push_back("a signature that does not verify");
          }
          if (hsm_->health().recoveries > 0) good_after_recovery.fetch_add(1);
        } else if (signature.error().code != Code::kHsmUnavailable) {
          std::lock_guard lock(mutex);
          unexpected.push_back(signature.error().message);
        }
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(200));
  write_control("reboot " + std::to_string(next_reboot_generation()) + "\n");
  const auto deadline = Clock::now() + milliseconds(15000);
  while (Clock::now() < deadline && good_after_recovery.load() < 50) std::this_thread::sleep_for(milliseconds(20));
  stop = true;
  for (auto& t : signers) t.join();
  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << " unexpected answers, the first: " << unexpected.front();
  EXPECT_GE(good_after_recovery.load(), 50);
  EXPECT_EQ(hsm_->health().state, Health::kReady);
  EXPECT_EQ(hsm_->health().recoveries, 1u);
}

// (b) A device that errs on everything: every operation answers kHsmUnavailable at once (no
// caller waits on a dead token), a listing is never an empty list, and the Hsm comes back.
TEST_F(RecoveryTest, DeviceErrorsFailFastAndRecover) {
  open();
  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  ASSERT_TRUE(hsm_->write_data("signet:test", "v").ok());

  write_control("fail * CKR_DEVICE_ERROR\n");
  const auto failing_until = Clock::now() + milliseconds(1500);
  int operations = 0;
  long long slowest = 0;
  while (Clock::now() < failing_until) {
    auto start = Clock::now();
    auto keys = hsm_->list_keys();
    slowest = std::max(slowest, ms_since(start));
    ASSERT_FALSE(keys.ok()) << "a failing token answered a listing of " << keys->size() << " keys";
    EXPECT_EQ(keys.error().code, Code::kHsmUnavailable) << keys.error().message;

    start = Clock::now();
    auto data = hsm_->read_data("signet:test");
    slowest = std::max(slowest, ms_since(start));
    ASSERT_FALSE(data.ok());
    EXPECT_EQ(data.error().code, Code::kHsmUnavailable) << data.error().message;

    start = Clock::now();
    auto signature = sign_with(key->ref, "m");
    slowest = std::max(slowest, ms_since(start));
    ASSERT_FALSE(signature.ok());
    EXPECT_EQ(signature.error().code, Code::kHsmUnavailable) << signature.error().message;
    EXPECT_GE(signature.error().retry_after_seconds, 1);

    start = Clock::now();
    EXPECT_FALSE(hsm_->check_health().ok());
    slowest = std::max(slowest, ms_since(start));
    ++operations;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_GT(operations, 10);
  EXPECT_LT(slowest, 250) << "an operation waited on the failing token";
  EXPECT_EQ(hsm_->health().state, Health::kRecovering);
  EXPECT_FALSE(hsm_->health().reason.empty());
  EXPECT_EQ(hsm_->health().recoveries, 0u);

  write_control("");
  ASSERT_TRUE(wait_for(Health::kReady)) << hsm_->health().reason;
  EXPECT_EQ(hsm_->health().recoveries, 1u);
  auto keys = hsm_->list_keys();
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(keys->size(), 1u);
  auto data = hsm_->read_data("signet:test");
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(*data, "v");
  auto signature = sign_with(key->ref, "back");
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_TRUE(verify_signature(*key, "back", *signature));
  EXPECT_TRUE(hsm_->check_health().ok());
}

// (c) The PIN refused at the re-login: one C_Login, never a second (a token counts wrong PINs
// and locks), and the Hsm says it cannot recover on its own.
TEST_F(RecoveryTest, WrongPinAtReloginFailsOnceAndForGood) {
  open();
  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  wrong_pin_ = true;
  clear_trace();
  write_control("reboot " + std::to_string(next_reboot_generation()) + "\n");
  auto signature = sign_with(key->ref, "m");
  ASSERT_FALSE(signature.ok());
  EXPECT_EQ(signature.error().code, Code::kHsmUnavailable);

  ASSERT_TRUE(wait_for(Health::kFailed)) << health_name(hsm_->health().state) << ": " << hsm_->health().reason;
  EXPECT_EQ(count_trace("C_Login", "CKR_PIN_INCORRECT"), 1u);
  EXPECT_EQ(count_trace("C_Login"), 1u);
  EXPECT_EQ(pin_calls_.load(), 1);
  const HealthReport failed = hsm_->health();
  EXPECT_EQ(failed.reason.find("0000-wrong"), std::string::npos) << "the reason never holds the PIN";
  EXPECT_NE(failed.reason.find("CKR_PIN_INCORRECT"), std::string::npos) << failed.reason;
  EXPECT_EQ(failed.recoveries, 0u);

  // Not retried, whatever the time or the calls made meanwhile.
  std::this_thread::sleep_for(milliseconds(2500));
  const auto start = Clock::now();
  auto still = sign_with(key->ref, "m");
  EXPECT_LT(ms_since(start), 200);
  ASSERT_FALSE(still.ok());
  EXPECT_EQ(still.error().code, Code::kHsmUnavailable);
  EXPECT_FALSE(hsm_->check_health().ok());
  EXPECT_FALSE(hsm_->list_keys().ok());
  EXPECT_EQ(count_trace("C_Login"), 1u);
  EXPECT_EQ(pin_calls_.load(), 1);
  EXPECT_EQ(hsm_->health().state, Health::kFailed);
}

// (d) A full token: a record that exists is still rewritten (the old object makes room for the
// new one), a new record fails as unavailable, and a full token is not a lost one (no recovery).
// The fault: every second C_CreateObject is refused, so the first create of a rewrite fails and
// the one after the old object is gone succeeds, as on a token with room for one more object.
TEST_F(RecoveryTest, FullTokenStillRewritesExistingRecords) {
  open();
  ASSERT_TRUE(hsm_->write_data("signet:usage:r1", "00000000000000000001 old").ok());
  write_control("fail C_CreateObject CKR_DEVICE_MEMORY every 2\n");
  ASSERT_TRUE(hsm_->write_data("signet:prime", "p").ok());  // the 1st create: the next one fails

  auto rewritten = hsm_->write_data("signet:usage:r1", "00000000000000000002 new, and longer");
  ASSERT_TRUE(rewritten.ok()) << rewritten.error().message;
  EXPECT_EQ(count_trace("C_CreateObject", "CKR_DEVICE_MEMORY"), 1u) << "the token was full for it";
  auto read = hsm_->read_data("signet:usage:r1");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, "00000000000000000002 new, and longer");

  auto fresh = hsm_->write_data("signet:usage:r2", "x");  // the 4th create: refused
  ASSERT_FALSE(fresh.ok());
  EXPECT_EQ(fresh.error().code, Code::kHsmUnavailable) << fresh.error().message;
  EXPECT_EQ(hsm_->read_data("signet:usage:r2").error().code, Code::kNotFound);

  const HealthReport health = hsm_->health();
  EXPECT_EQ(health.state, Health::kReady);
  EXPECT_EQ(health.recoveries, 0u);
  EXPECT_EQ(health.generation, 1u);
  EXPECT_TRUE(hsm_->check_health().ok());
  // Still one object under the label, as the next reader expects.
  auto listed = hsm_->list_data("signet:usage:");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().second, "00000000000000000002 new, and longer");

  write_control("");
  ASSERT_TRUE(hsm_->write_data("signet:usage:r2", "x").ok());
  EXPECT_EQ(hsm_->health().recoveries, 0u);
}

// A token that fails one call with a device-class code but answers the next (SoftHSM2's file
// store does so under concurrent writes) is not a lost device: the call is made once more in
// the same session, and the connection is kept. A fault on every call still drops it.
TEST_F(RecoveryTest, ADeviceErrorTheTokenSurvivesIsTriedOnceMoreWithoutReconnecting) {
  open();
  write_control("fail C_CreateObject CKR_GENERAL_ERROR every 2\n");
  ASSERT_TRUE(hsm_->write_data("signet:prime", "p").ok());  // the 1st create: the next one fails
  auto written = hsm_->write_data("signet:usage:r1", "v");
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(count_trace("C_CreateObject", "CKR_GENERAL_ERROR"), 1u);
  EXPECT_EQ(*hsm_->read_data("signet:usage:r1"), "v");
  EXPECT_EQ(hsm_->health().state, Health::kReady);
  EXPECT_EQ(hsm_->health().recoveries, 0u);
  EXPECT_EQ(hsm_->health().generation, 1u);

  write_control("fail C_CreateObject CKR_GENERAL_ERROR\n");  // every time: gone after all
  EXPECT_FALSE(hsm_->write_data("signet:usage:r2", "w").ok());
  EXPECT_NE(hsm_->health().state, Health::kReady);
  write_control("");
}

// A token that stays full (every C_CreateObject refused): whatever write_data answers, a write
// that failed must leave the record it was replacing. A usage reservation that vanishes lets a
// retiring key be destroyed while tokens it signed are still valid.
TEST_F(RecoveryTest, FullTokenNeverLosesARecordOnAFailedWrite) {
  const std::string full = open_with_a_record_and_no_room();
  ASSERT_FALSE(full.empty());
  write_control(full);

  // A record is rewritten in the room of its old object...
  ASSERT_TRUE(hsm_->write_data("signet:usage:r1", "00000000000000000002 new").ok());
  auto read = hsm_->read_data("signet:usage:r1");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, "00000000000000000002 new");
  // ...while a new one does not fit, and its failed write touches nothing else.
  auto added = hsm_->write_data("signet:usage:r2", "00000000000000000001 x");
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().code, Code::kHsmUnavailable) << added.error().message;
  read = hsm_->read_data("signet:usage:r1");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, "00000000000000000002 new");
  EXPECT_EQ(hsm_->health().state, Health::kReady);
  EXPECT_EQ(hsm_->health().recoveries, 0u);
}

// A full token whose create, once room was made, answers something no write of the record ever
// should (SoftHSM2's file store has answered CKR_TEMPLATE_INCONSISTENT while another session
// searched): the token's trouble, so kHsmUnavailable (503 with Retry-After to a client), not an
// internal error, and the record it was replacing is put back.
TEST_F(RecoveryTest, FullTokenThatRefusesTheRewriteIsUnavailableAndKeepsTheRecord) {
  const std::string full = open_with_a_record_and_no_room();
  ASSERT_FALSE(full.empty());
  // The 1st create meets the full token (CKR_DEVICE_MEMORY), the 2nd, after the old object made
  // room, is refused, the 3rd puts the old value back.
  write_control(full + "fail C_CreateObject CKR_TEMPLATE_INCONSISTENT every 2\n");
  auto written = hsm_->write_data("signet:usage:r1", "00000000000000000002 new");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, Code::kHsmUnavailable) << written.error().message;
  EXPECT_NE(written.error().message.find("CKR_TEMPLATE_INCONSISTENT"), std::string::npos) << written.error().message;
  EXPECT_EQ(count_trace("C_CreateObject", "CKR_TEMPLATE_INCONSISTENT"), 1u);
  write_control("");
  auto read = hsm_->read_data("signet:usage:r1");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, "00000000000000000001 old");
  EXPECT_EQ(hsm_->health().state, Health::kReady);
  EXPECT_EQ(hsm_->health().recoveries, 0u);
}

// (e) A token that is not there at start: with wait_for_token, open() answers a recovering Hsm
// that fails fast and logs in once the token appears; without it, open() fails.
TEST_F(RecoveryTest, WaitForTokenStartsRecoveringAndLogsInWhenItAppears) {
  write_control("fail C_GetSlotList CKR_TOKEN_NOT_PRESENT\n");
  {
    auto refused = Hsm::open(options(false));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, Code::kHsmTokenNotFound) << refused.error().message;
  }

  open(true);
  EXPECT_EQ(hsm_->health().state, Health::kRecovering);
  std::this_thread::sleep_for(milliseconds(500));  // a few attempts, all failing
  EXPECT_EQ(hsm_->health().state, Health::kRecovering);
  EXPECT_FALSE(hsm_->health().reason.empty());
  auto start = Clock::now();
  auto keys = hsm_->list_keys();
  ASSERT_FALSE(keys.ok()) << "an absent token listed " << keys->size() << " keys";
  EXPECT_EQ(keys.error().code, Code::kHsmUnavailable);
  auto data = hsm_->read_data("signet:ring");
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.error().code, Code::kHsmUnavailable);
  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, Code::kHsmUnavailable);
  EXPECT_FALSE(hsm_->check_health().ok());
  EXPECT_LT(ms_since(start), 200) << "operations fail fast while the token is absent";

  write_control("");
  ASSERT_TRUE(wait_for(Health::kReady)) << hsm_->health().reason;
  EXPECT_EQ(hsm_->health().recoveries, 1u);
  EXPECT_TRUE(hsm_->check_health().ok());
  keys = hsm_->list_keys();
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_TRUE(keys->empty());
  key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto signature = sign_with(key->ref, "m");
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_TRUE(verify_signature(*key, "m", *signature));
}

// (f) After a reboot the token answers searches without the private objects: that view must
// never read as "no keys" or "no record". Until the Hsm has logged in again, every view is
// kHsmUnavailable; after it, the whole token is seen.
TEST_F(RecoveryTest, LoggedOutViewIsNeverEmptyOrNotFound) {
  open();
  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  ASSERT_TRUE(hsm_->write_data("signet:ring", "record").ok());
  ASSERT_TRUE(hsm_->write_data("signet:usage:r1", "usage").ok());

  // The re-login fails (as a device error, retried with backoff) for a while.
  const int generation = next_reboot_generation();
  write_control("reboot " + std::to_string(generation) + "\nfail C_Login CKR_DEVICE_ERROR\n");
  int unavailable = 0;
  auto check_views = [&](bool* ready) {
    auto keys = hsm_->list_keys();
    if (keys.ok()) {
      ASSERT_EQ(keys->size(), 1u) << "a listing that misses the key";
      *ready = true;
    } else {
      ASSERT_EQ(keys.error().code, Code::kHsmUnavailable) << keys.error().message;
      ++unavailable;
    }
    auto data = hsm_->read_data("signet:ring");
    if (data.ok()) {
      ASSERT_EQ(*data, "record");
    } else {
      ASSERT_EQ(data.error().code, Code::kHsmUnavailable) << "absent is not unseen: " << data.error().message;
    }
    auto listed = hsm_->list_data("signet:");
    if (listed.ok()) {
      ASSERT_EQ(listed->size(), 2u);
    } else {
      ASSERT_EQ(listed.error().code, Code::kHsmUnavailable) << listed.error().message;
    }
  };
  const auto failing_until = Clock::now() + milliseconds(1200);
  while (Clock::now() < failing_until) {
    bool ready = false;
    ASSERT_NO_FATAL_FAILURE(check_views(&ready));
    EXPECT_FALSE(ready) << "a view answered while the login is refused";
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_GT(unavailable, 10);
  EXPECT_EQ(hsm_->health().state, Health::kRecovering);

  write_control("reboot " + std::to_string(generation) + "\n");  // the same generation: no new reboot
  const auto deadline = Clock::now() + milliseconds(15000);
  bool ready = false;
  while (!ready && Clock::now() < deadline) {
    ASSERT_NO_FATAL_FAILURE(check_views(&ready));
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(ready) << hsm_->health().reason;
  EXPECT_EQ(hsm_->health().state, Health::kReady);
  auto data = hsm_->read_data("signet:usage:r1");
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(*data, "usage");
}

// A token older than PKCS#11 2.40 refuses CKA_ALLOWED_MECHANISMS (and CKA_COPYABLE,
// CKA_DESTROYABLE) in a template with CKR_ATTRIBUTE_TYPE_INVALID. Emulated here by failing every
// second C_GenerateKeyPair: the first key is made as usual, the second key's first attempt is
// refused. That key is made again without them, said unbound, still signs, and the token's binding
// is reported as not accepted.
TEST_F(RecoveryTest, ATokenThatRefusesThe240AttributesGetsUnboundKeys) {
  open();
  write_control("fail C_GenerateKeyPair CKR_ATTRIBUTE_TYPE_INVALID every 2\n");
  auto bound = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(bound.ok()) << bound.error().message;
  EXPECT_TRUE(bound->mechanism_bound);
  auto unbound = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(unbound.ok()) << unbound.error().message;
  EXPECT_EQ(count_trace("C_GenerateKeyPair", "CKR_ATTRIBUTE_TYPE_INVALID"), 1u);
  EXPECT_FALSE(unbound->mechanism_bound);
  EXPECT_TRUE(unbound->local && unbound->always_sensitive && unbound->never_extractable);
  EXPECT_EQ(hsm_->token_profile().allowed_mechanisms, Binding::kNotAccepted);
  EXPECT_EQ(hsm_->health().state, Health::kReady);
  auto signature = sign_with(unbound->ref, "unbound");
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_TRUE(verify_signature(*unbound, "unbound", *signature));
}

}  // namespace
}  // namespace signet::hsm::testing
