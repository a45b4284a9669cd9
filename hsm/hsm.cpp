// Hsm::open, and the Hsm that lends each operation a pooled session of its current Connection
// and rides out the token's faults (see hsm.h):
//  - a lost session: reopened, the operation retried once in it;
//  - a stale key handle (the token logged us in again and numbered its objects anew): the key is
//    found again by CKA_ID, the signature retried once;
//  - a lost login, a device error, a vanished token: the Connection is dropped at once, so every
//    operation fails fast (503, no worker waits on a dead token), and the recovery thread
//    connects again with backoff and jitter, reading the PIN again from its source;
//  - a full token (CKR_DEVICE_MEMORY) or a busy one: that operation fails, nothing else changes;
//  - a refused PIN: never tried twice; the Hsm stays kFailed until an operator acts.
#include "hsm/hsm.h"

#include <openssl/rand.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "base/log.h"
#include "hsm/backoff.h"
#include "hsm/capabilities.h"
#include "hsm/connection.h"
#include "hsm/operations.h"

namespace signet::hsm {
namespace {

constexpr std::size_t kMaxPoolSessions = 4096;
// How long a connection must stay up before a new fault starts the backoff from its shortest wait.
constexpr std::chrono::seconds kHealthyFor{30};

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double unit_random() {
  unsigned int r = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r) != 1) return 0.5;
  return static_cast<double>(r) / 4294967296.0;
}

// Which faults mean the Connection as a whole is lost (as opposed to one session, one handle,
// or one operation the token refused).
bool loses_connection(Fault fault) { return fault == Fault::kLoggedOut || fault == Fault::kDeviceGone; }

class P11Hsm final : public Hsm {
 public:
  P11Hsm(std::shared_ptr<Module> module, Options& options)
      : module_(std::move(module)),
        selector_(options.token_label, options.token_serial, options.slot_id),
        label_(selector_.describe()),
        pin_source_(std::move(options.pin_source)),
        max_sessions_(options.max_sessions),
        scheme_(options.scheme),
        reading_{binding_, options.scheme && is_rsa(*options.scheme) ? *options.scheme
                                                                     : SignScheme::kRsaPkcs1Sha256} {}

  ~P11Hsm() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wakeup_.notify_all();
    if (recovery_thread_.joinable()) recovery_thread_.join();
  }

  // Starts in kReady with a connection made by open(), or in kRecovering with why it failed.
  void begin(std::shared_ptr<Connection> connection, const std::string& why) {
    if (connection) {
      connection_.store(std::move(connection), std::memory_order_release);
    } else {
      state_ = Health::kRecovering;
      reason_ = why;
      recovery_due_ = true;
      failed_attempts_ = 1;
    }
    recovery_thread_ = std::thread(&P11Hsm::recover, this);
  }

  Result<KeyInfo> generate_key(SignScheme scheme, unsigned rsa_bits, std::string_view id) override {
    // Not retried in a fresh session: a session lost after C_GenerateKeyPair succeeded would
    // make a second pair with the same CKA_ID. The caller's next attempt starts over (the
    // ring's repair removes an interrupted generation by its intent).
    std::lock_guard writing(write_mutex_);
    return in_connection<KeyInfo>(kOnce, [&](Connection& c, SessionRef& s) -> Result<KeyInfo> {
      if (Status in = require_login(s); !in.ok()) return in.error();
      auto key = generate_key_pair(s, scheme, rsa_bits, id, reading_);
      if (key.ok()) key->ref.generation = c.generation;
      return key;
    });
  }

  Result<std::vector<KeyInfo>> list_keys() override {
    return viewed<std::vector<KeyInfo>>([&](Connection& c, SessionRef& s) {
      auto keys = list_key_pairs(s, reading_);
      if (keys.ok()) {
        for (auto& key : *keys) key.ref.generation = c.generation;
      }
      return keys;
    });
  }

  Status destroy_key(std::string_view id) override {
    return viewed<Ok>([&](Connection&, SessionRef& s) { return destroy_key_pair(s, id); });
  }

  Result<std::size_t> sign(const KeyRef& key, std::string_view message, unsigned char* out,
                           std::size_t out_len) override {
    auto connection = connection_.load(std::memory_order_acquire);
    if (!connection) return unavailable();
    const bool current = key.generation == connection->generation;
    for (int attempt = 0;; ++attempt) {
      Fault fault = Fault::kNone;
      auto length = in_session<std::size_t>(connection, fault, [&](SessionRef& s) -> Result<std::size_t> {
        KeyRef ref = key;
        if (!current || attempt > 0) {
          // A search made without the login would miss the key: that is a lost login.
          if (Status in = require_login(s); !in.ok()) return in.error();
          auto handle = find_private_key(s, key.id);
          if (!handle.ok()) return handle.error();
          ref.handle = *handle;
        }
        return sign_message(s, ref, message, out, out_len);
      });
      if (length.ok()) {
        last_signature_ms_.store(wall_ms(), std::memory_order_relaxed);
        // The generation it was made in: a signature finishing on a replaced connection does
        // not vouch for the new one.
        if (signed_generation_.load(std::memory_order_relaxed) != connection->generation) {
          signed_generation_.store(connection->generation, std::memory_order_relaxed);
        }
        return length;
      }
      // A handle the token no longer knows: once more, looking the key up by its CKA_ID.
      if (fault == Fault::kStaleHandle && attempt == 0 && !key.id.empty()) continue;
      return length;
    }
  }

  Result<std::string> read_data(std::string_view label) override {
    return viewed<std::string>([&](Connection&, SessionRef& s) { return read_data_object(s, label); });
  }

  Status write_data(std::string_view label, std::string_view value) override {
    // One object-creating write at a time in this process: on a full token a rewrite destroys
    // the old object before it creates the new one, and no other create of ours may take the
    // room in between.
    std::lock_guard writing(write_mutex_);
    return viewed<Ok>([&](Connection&, SessionRef& s) { return write_data_object(s, label, value); });
  }

  Result<std::vector<std::string>> read_label_slots(std::string_view name) override {
    return viewed<std::vector<std::string>>([&](Connection&, SessionRef& s) { return read_label_slot_objects(s, name); });
  }

  Status write_label_slot(std::string_view name, std::string_view keep, std::string_view value) override {
    std::lock_guard writing(write_mutex_);  // the slots' creation, like write_data's; and known_slots_
    return viewed<Ok>([&](Connection& c, SessionRef& s) {
      KnownSlots& known = known_slots_[std::string(name)];
      if (known.generation != c.generation) known = KnownSlots{c.generation, {}};
      return write_label_slot_object(s, name, keep, value, known);
    });
  }

  Result<std::vector<std::pair<std::string, std::string>>> list_data(std::string_view prefix) override {
    return viewed<std::vector<std::pair<std::string, std::string>>>(
        [&](Connection&, SessionRef& s) { return list_data_objects(s, prefix); });
  }

  Status destroy_data(std::string_view label) override {
    return viewed<Ok>([&](Connection&, SessionRef& s) { return destroy_data_objects(s, label); });
  }

  std::size_t session_capacity() const override {
    auto connection = connection_.load(std::memory_order_acquire);
    return connection ? connection->pool->capacity() : max_sessions_;
  }

  TokenProfile token_profile() const override {
    TokenProfile profile;
    if (auto connection = connection_.load(std::memory_order_acquire)) {
      profile = connection->profile;
    } else {
      std::lock_guard lock(mutex_);
      profile = last_profile_;
    }
    profile.allowed_mechanisms = binding_.load();
    return profile;
  }

  Status check_health() override {
    auto connection = connection_.load(std::memory_order_acquire);
    if (!connection) return unavailable();
    SessionRef session{connection->token->api(), connection->token->login_session()};
    if (Status in = require_login(session); !in.ok()) {
      // The login session holds the login: when it is gone, so is the login.
      const Fault fault = classify(session.fault);
      note_fault(connection, fault == Fault::kSessionLost ? Fault::kLoggedOut : fault, in.error().message);
      return unavailable();
    }
    return ok_status();
  }

  HealthReport health() const override {
    HealthReport report;
    {
      std::lock_guard lock(mutex_);
      report.state = state_;
      report.reason = reason_;
      report.recoveries = recoveries_;
      if (state_ == Health::kRecovering) report.retry_after_seconds = retry_after_locked();
    }
    auto connection = connection_.load(std::memory_order_acquire);
    report.generation = connection ? connection->generation : generation_.load();
    report.faults = faults_.load(std::memory_order_relaxed);
    report.last_signature_ms = last_signature_ms_.load(std::memory_order_relaxed);
    report.signed_since_recovery =
        connection && signed_generation_.load(std::memory_order_relaxed) == connection->generation;
    return report;
  }

  // Held while the listener runs, so that replacing it (with nothing, at shutdown) waits for a
  // call in progress: what it refers to may be about to go.
  void on_recovered(std::function<void()> listener) override {
    std::lock_guard lock(listener_mutex_);
    on_recovered_ = std::move(listener);
  }

 private:
  // Runs op in a pooled session of `connection`; notes a fault that loses the connection, and
  // answers which fault the operation met. A lost session is reopened and op run once more.
  enum Retry { kOnce, kAgainInAFreshSession };

  template <class T, class Op>
  Result<T> in_session(const std::shared_ptr<Connection>& connection, Fault& fault, Op&& op,
                       Retry retry = kAgainInAFreshSession) {
    CK_RV open_failure = CKR_OK;
    auto lease = connection->pool->acquire(&open_failure);
    if (!lease.ok()) {
      fault = classify(open_failure);
      note_fault(connection, fault, lease.error().message);
      return fail_fast(lease.error(), fault);
    }
    for (int attempt = 0;; ++attempt) {
      SessionRef session{connection->token->api(), lease->handle()};
      Result<T> result = op(session);
      if (session.discard || session.lost != CKR_OK) lease->drop();
      if (result.ok()) return result;
      fault = classify(session.fault);
      // A device-class answer from a token that still answers in the same session is not a lost
      // device: SoftHSM2's file store answers CKR_GENERAL_ERROR now and then to a create that
      // races another thread's write. Once more in this session before dropping the connection.
      if (fault == Fault::kDeviceGone && session.lost == CKR_OK && attempt == 0 && retry != kOnce &&
          still_answers(session)) {
        faults_.fetch_add(1, std::memory_order_relaxed);
        log::warn("hsm_call_retried", {{"detail", result.error().message}});
        continue;
      }
      if (session.lost == CKR_OK || attempt == 1 || retry == kOnce) {
        note_fault(connection, fault, result.error().message);
        return fail_fast(result.error(), fault);
      }
      if (Status reopened = lease->reopen(); !reopened.ok()) {
        fault = Fault::kDeviceGone;
        note_fault(connection, fault, reopened.error().message);
        return fail_fast(reopened.error(), fault);
      }
    }
  }

  // Whether the session still works: the module answers it, and it is still logged in.
  static bool still_answers(SessionRef& session) {
    CK_SESSION_INFO info{};
    return session.api.C_GetSessionInfo(session.handle, &info) == CKR_OK &&
           (info.state == CKS_RW_USER_FUNCTIONS || info.state == CKS_RO_USER_FUNCTIONS);
  }

  // An operation in the current connection, or kHsmUnavailable at once while recovering.
  template <class T, class Op>
  Result<T> in_connection(Retry retry, Op&& op) {
    auto connection = connection_.load(std::memory_order_acquire);
    if (!connection) return unavailable();
    Fault fault = Fault::kNone;
    return in_session<T>(connection, fault, [&](SessionRef& s) { return op(*connection, s); }, retry);
  }

  // A view of the token (or a change that relies on one): made only in a session that is logged
  // in before and after it, so that objects hidden by a lost login never read as absent.
  template <class T, class Op>
  Result<T> viewed(Op&& op) {
    return in_connection<T>(kAgainInAFreshSession, [&](Connection& c, SessionRef& s) -> Result<T> {
      if (Status in = require_login(s); !in.ok()) return in.error();
      Result<T> result = op(c, s);
      if (!result.ok()) return result;
      if (Status still = require_login(s); !still.ok()) return still.error();
      return result;
    });
  }

  // A lost connection's error says that the HSM is recovering, with when to come back.
  Error fail_fast(Error error, Fault fault) {
    if (loses_connection(fault)) error.retry_after_seconds = 1;
    return error;
  }

  Error unavailable() const {
    std::lock_guard lock(mutex_);
    Error error = make_error(Code::kHsmUnavailable, state_ == Health::kFailed
                                                        ? "the HSM cannot be used: " + reason_
                                                        : "the HSM is reconnecting: " + reason_);
    error.retry_after_seconds = state_ == Health::kFailed ? 60 : retry_after_locked();
    return error;
  }

  long retry_after_locked() const {
    const auto wait = std::chrono::duration_cast<std::chrono::seconds>(next_attempt_ - std::chrono::steady_clock::now());
    return std::max<long>(1, static_cast<long>(wait.count()) + 1);
  }

  // The first operation to meet a connection-losing fault on the current connection drops it
  // and wakes the recovery thread; the others find it gone already.
  void note_fault(const std::shared_ptr<Connection>& connection, Fault fault, const std::string& what) {
    if (fault == Fault::kNone) return;
    faults_.fetch_add(1, std::memory_order_relaxed);
    if (!loses_connection(fault)) return;
    {
      std::lock_guard lock(mutex_);
      auto current = connection_.load(std::memory_order_acquire);
      if (current != connection || stop_) return;
      // Kept until a new connection is up: its Token still counts the login, so that the new
      // one's login is not undone when this one closes.
      retired_ = std::move(current);
      connection_.store(nullptr, std::memory_order_release);
      state_ = Health::kRecovering;
      reason_ = what;
      recovery_due_ = true;
      // A token that fails again soon after a reconnection is not hammered: the waits go on
      // growing from where the last recovery left them.
      const auto now = std::chrono::steady_clock::now();
      fault_streak_ = now - recovered_at_ < kHealthyFor ? fault_streak_ + 1 : 1;
      failed_attempts_ = fault_streak_;
      next_attempt_ = now;
    }
    log::warn("hsm_connection_lost", {{"token", label_}, {"fault", fault_name(fault)}, {"detail", what}});
    wakeup_.notify_all();
  }

  // The recovery thread: sleeps until a connection is lost, then connects again until it works,
  // waiting reconnect_delay() between attempts. A refused PIN ends the attempts for good.
  void recover() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wakeup_.wait(lock, [&] { return stop_ || recovery_due_; });
      if (stop_) return;
      if (failed_attempts_ > 0) {
        const auto delay = reconnect_delay(failed_attempts_, unit_random());
        next_attempt_ = std::chrono::steady_clock::now() + delay;
        if (wakeup_.wait_for(lock, delay, [&] { return stop_; })) return;
      }
      lock.unlock();
      auto attempt = reconnect();
      lock.lock();
      if (attempt.ok()) {
        connection_.store(std::move(*attempt), std::memory_order_release);
        std::shared_ptr<Connection> old = std::move(retired_);
        state_ = Health::kReady;
        reason_.clear();
        recovery_due_ = false;
        failed_attempts_ = 0;
        recovered_at_ = std::chrono::steady_clock::now();
        ++recoveries_;
        lock.unlock();
        old.reset();  // closes the lost sessions (the token may still know some of them)
        log::info("hsm_recovered", {{"token", label_}, {"generation", std::to_string(generation_.load())}});
        {
          std::lock_guard listening(listener_mutex_);
          if (on_recovered_) on_recovered_();
        }
        lock.lock();
        continue;
      }
      const Error& error = attempt.error();
      // A refused PIN, or a token that lacks the configured scheme: trying again cannot help.
      if (error.code == Code::kHsmPin || error.code == Code::kConfig || error.code == Code::kHsmModule) {
        state_ = Health::kFailed;
        reason_ = error.message;
        recovery_due_ = false;
        log::error("hsm_failed", {{"token", label_}, {"detail", error.message}});
        continue;
      }
      ++failed_attempts_;
      reason_ = error.message;
      // The first failures and then one in ten: enough to follow, not a flood.
      if (failed_attempts_ <= 3 || failed_attempts_ % 10 == 0) {
        log::warn("hsm_reconnect_failed", {{"token", label_},
                                           {"attempts", std::to_string(failed_attempts_)},
                                           {"detail", error.message}});
      }
    }
  }

  Result<std::shared_ptr<Connection>> reconnect() {
    if (!pin_source_) {
      return make_error(Code::kConfig, "the token " + label_ + " needs a new login and no PIN source is configured");
    }
    auto pin = pin_source_();
    if (!pin.ok()) return make_error(Code::kHsmUnavailable, pin.error().message);
    auto connection = connect(module_, selector_, *pin, max_sessions_, generation_.fetch_add(1) + 1, scheme_);
    if (connection.ok()) {
      log_token_profile(label_, (*connection)->profile);
      std::lock_guard lock(mutex_);
      last_profile_ = (*connection)->profile;
    }
    return connection;
  }

  const std::shared_ptr<Module> module_;
  const TokenSelector selector_;
  const std::string label_;  // how log lines name the token
  const PinSource pin_source_;
  const std::size_t max_sessions_;
  const std::optional<SignScheme> scheme_;
  std::atomic<Binding> binding_{Binding::kUnknown};  // learned from the first key, kept across logins
  KeyReading reading_;

  std::atomic<std::shared_ptr<Connection>> connection_;  // null while recovering
  std::atomic<std::uint64_t> generation_{1};
  std::atomic<std::uint64_t> faults_{0};
  std::atomic<std::int64_t> last_signature_ms_{0};
  std::atomic<std::uint64_t> signed_generation_{0};  // of the last good signature

  std::mutex write_mutex_;  // see write_data
  std::map<std::string, KnownSlots, std::less<>> known_slots_;  // write_label_slot's, by name
  std::mutex listener_mutex_;
  std::function<void()> on_recovered_;  // guarded by listener_mutex_

  mutable std::mutex mutex_;  // guards the members below
  std::condition_variable wakeup_;
  bool stop_ = false;
  bool recovery_due_ = false;
  unsigned failed_attempts_ = 0;
  unsigned fault_streak_ = 0;  // connections lost in a row, each soon after the last recovery
  std::chrono::steady_clock::time_point recovered_at_{};
  std::chrono::steady_clock::time_point next_attempt_ = std::chrono::steady_clock::now();
  Health state_ = Health::kReady;
  std::string reason_;
  std::uint64_t recoveries_ = 0;
  std::shared_ptr<Connection> retired_;
  TokenProfile last_profile_;  // of the last connection, shown while recovering
  std::thread recovery_thread_;  // last: started once everything above exists
};

}  // namespace

std::string_view health_name(Health health) {
  switch (health) {
    case Health::kReady: return "ready";
    case Health::kRecovering: return "recovering";
    case Health::kFailed: return "failed";
  }
  return "failed";
}

Result<std::unique_ptr<Hsm>> Hsm::open(Options options) {
  // Every early return leaves the PIN wiped, by Token::open or by the SecretString's destructor.
  if (options.max_sessions == 0 || options.max_sessions > kMaxPoolSessions) {
    return make_error(Code::kConfig, "max_sessions must be between 1 and " +
                                         std::to_string(kMaxPoolSessions));
  }
  auto module = Module::load(options.module_path);
  if (!module.ok()) return module.error();

  if (options.pin.empty() && options.pin_source) {
    auto pin = options.pin_source();
    if (!pin.ok()) return pin.error();
    options.pin = std::move(*pin);
  }
  const TokenSelector selector(options.token_label, options.token_serial, options.slot_id);
  auto connection = connect(*module, selector, options.pin, options.max_sessions, 1, options.scheme);
  options.pin.wipe();
  const bool transient = !connection.ok() && (connection.error().code == Code::kHsmUnavailable ||
                                              connection.error().code == Code::kHsmTokenNotFound);
  if (!connection.ok() && !(transient && options.wait_for_token)) return connection.error();

  auto hsm = std::make_unique<P11Hsm>(std::move(*module), options);
  if (connection.ok()) {
    log_token_profile(selector.describe(), (*connection)->profile);
    hsm->begin(std::move(*connection), "");
  } else {
    log::warn("hsm_unavailable_at_start", {{"token", selector.describe()}, {"detail", connection.error().message}});
    hsm->begin(nullptr, connection.error().message);
  }
  return std::unique_ptr<Hsm>(std::move(hsm));
}

}  // namespace signet::hsm
