// The rotation job: one thread per signetd that keeps this replica's view of the ring fresh
// and, while it holds the lease, carries out the lifecycle's decisions (lifecycle.h) in the
// token. Every step is ordered so that a crash between any two leaves a ring the next tick
// repairs: keys are generated before the record names them (an orphan is destroyed), a key
// leaves the record before it is destroyed (a missing key is dropped from the record), and
// promotion is one record write. Timers run on the monotonic clock; record times are wall
// clock seconds, as claims are; both are the ring's Clock (clock.h).
//
// Operators ask through request objects in the token ("signet:request:rotate",
// "signet:request:revoke:<kid>"), so that any replica can take the request and the lease
// holder carries it out.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "firmware/ring/key_ring.h"
#include "firmware/ring/lease.h"
#include "firmware/ring/lifecycle.h"

namespace signet::ring {

inline constexpr std::string_view kRequestLabelPrefix = "signet:request:";

// What the lifecycle did to a key, for the audit ledger.
enum class KeyEvent { kGenerated, kPromoted, kDestroyed, kRevoked, kAdopted, kLost };

class RotationJob {
 public:
  // Its time is the ring's (ring.clock()).
  RotationJob(KeyRing& ring, LifecyclePolicy policy);
  ~RotationJob();  // stops the thread and gives the lease up
  RotationJob(const RotationJob&) = delete;
  RotationJob& operator=(const RotationJob&) = delete;

  // Ticks until the ring has an active key (on a fresh token this replica, or another one,
  // creates it), then starts the thread. A token that is unavailable (absent, rebooting) is
  // not an error: the thread keeps ticking and the ring fills in when the token answers.
  // Errors when the ring cannot be used at all, or time runs out while the token answers.
  Status start(std::chrono::seconds timeout);

  // Operator requests. They are recorded in the token and carried out by the lease holder.
  Status request_rotation();
  Status request_revocation(const std::string& kid);
  // Runs a tick soon (a request, or a count limit reached).
  void wake();
  // Told of every step done in the token (from the job's thread). Set once, before start().
  void on_key_event(std::function<void(KeyEvent, const std::string& kid)> listener) { on_event_ = std::move(listener); }
  // Asks for a tick at once and blocks until one that began after the call has ended, or the
  // timeout passes: what a caller waits for once it has changed something the tick must see.
  void run_tick(std::chrono::milliseconds timeout);

  // The last reason a due rotation was held back (cap or pre-publication), or empty.
  std::string held_reason() const;
  // Ticks that failed (the token refused a step: full, unavailable), and the last reason.
  std::uint64_t failed_ticks() const;
  std::string last_failure() const;
  const LifecyclePolicy& policy() const { return policy_; }

 private:
  Status tick();
  Status lead(RingRecord& record, std::int64_t now);
  Status repair(RingRecord& record, std::int64_t now);
  RingRecord salvage(const KeyRing::RecordRead& read);
  void probe_signature();
  Status carry_out(const Decision& decision, RingRecord& record, std::int64_t now);
  Status revoke(const std::string& kid, RingRecord& record, std::int64_t now);
  Result<RecordEntry> generate(KeyState state, std::int64_t now);
  Status commit(RingRecord& record, std::string_view failpoint_after);
  Status commit_published(RingRecord& record, const std::string& kid, std::string_view failpoint_after);
  void collect_garbage(const RingRecord& record);
  void run();

  KeyRing& ring_;
  const LifecyclePolicy policy_;
  Clock& clock_;
  Lease lease_;

  mutable std::mutex mutex_;
  std::condition_variable wakeup_;
  std::condition_variable ticked_;
  bool stop_ = false;
  bool woken_ = false;
  std::uint64_t ticks_ = 0;    // ended
  std::uint64_t started_ = 0;  // begun; ticks run one after another on the thread
  std::string held_reason_;
  std::uint64_t failed_ticks_ = 0;
  std::string last_failure_;
  std::function<void(KeyEvent, const std::string&)> on_event_;
  std::thread thread_;
};

}  // namespace signet::ring
