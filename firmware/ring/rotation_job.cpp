#include "firmware/ring/rotation_job.h"

#include <algorithm>
#include <set>

#include <openssl/rand.h>

#include "base/catch_all.h"
#include "base/hex.h"
#include "base/log.h"
#include "firmware/ring/failpoint.h"
#include "firmware/ring/repair.h"

namespace signet::ring {
namespace {

constexpr std::string_view kRotateRequest = "signet:request:rotate";
constexpr std::string_view kRevokeRequestPrefix = "signet:request:revoke:";
constexpr std::string_view kDamagedRecordLabel = "signet:ring:damaged";
constexpr int kMaxStepsPerTick = 8;

// A record's id_hex back to the CKA_ID; a record that holds no hex there names no key of ours.
Result<std::string> key_id(std::string_view id_hex) {
  auto id = hex::decode(id_hex);
  if (!id || id->empty()) return make_error(Code::kInternal, "the ring record holds a key id that is not hex");
  return std::move(*id);
}

std::chrono::milliseconds lease_ttl(const LifecyclePolicy& policy) {
  return std::chrono::milliseconds(std::max<std::int64_t>(3, 3 * policy.refresh_interval) * 1000);
}

}  // namespace

RotationJob::RotationJob(KeyRing& ring, LifecyclePolicy policy)
    : ring_(ring),
      policy_(policy),
      clock_(ring.clock()),
      lease_(ring.hsm(), ring.clock(), ring.options().replica, lease_ttl(policy), std::chrono::milliseconds(300)) {}

RotationJob::~RotationJob() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wakeup_.notify_all();
  if (thread_.joinable()) thread_.join();
  lease_.release();
}

Status RotationJob::start(std::chrono::seconds timeout) {
  const std::int64_t deadline = clock_.steady_ms() + std::chrono::milliseconds(timeout).count();
  for (;;) {
    if (auto ticked = tick(); !ticked.ok()) {
      if (ticked.error().code != Code::kHsmUnavailable) return ticked;
      // Not seen is not gone: serve what can be served, and let the thread keep trying.
      log::warn("ring_waits_for_the_token", {{"detail", ticked.error().message}});
      break;
    }
    if (ring_.snapshot()->active()) break;
    if (clock_.steady_ms() >= deadline) {
      return make_error(Code::kHsmUnavailable, "no active key appeared in the token; another replica holds the lease "
                                               "but does not create one");
    }
    clock_.sleep_for(std::chrono::milliseconds(200));
  }
  thread_ = std::thread(&RotationJob::run, this);
  return ok_status();
}

void RotationJob::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    wakeup_.wait_for(lock, std::chrono::seconds(policy_.refresh_interval), [&] { return stop_ || woken_; });
    if (stop_) break;
    woken_ = false;
    ++started_;
    lock.unlock();
    // The thread's catch-all. Every step of a tick is ordered so that a crash between any two
    // leaves a ring the next tick repairs (rotation_job.h), and an exception is no worse: it
    // counts as a failed tick and the job goes on.
    Status ticked = ok_status();
    try {
      ticked = tick();
    } catch (...) {
      ticked = make_error(Code::kInternal, "the rotation step threw: " + exception_text());
    }
    if (!ticked.ok()) log::warn("rotation_tick_failed", {{"detail", ticked.error().message}});
    lock.lock();
    if (!ticked.ok()) {
      ++failed_ticks_;
      last_failure_ = ticked.error().message;
    }
    ++ticks_;
    ticked_.notify_all();
  }
}

void RotationJob::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wakeup_.notify_all();
}

void RotationJob::run_tick(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const std::uint64_t next = started_ + 1;  // the first tick to begin after this call
  woken_ = true;
  wakeup_.notify_all();
  ticked_.wait_for(lock, timeout, [&] { return ticks_ >= next || stop_; });
}

std::string RotationJob::held_reason() const {
  std::lock_guard lock(mutex_);
  return held_reason_;
}

std::uint64_t RotationJob::failed_ticks() const {
  std::lock_guard lock(mutex_);
  return failed_ticks_;
}

std::string RotationJob::last_failure() const {
  std::lock_guard lock(mutex_);
  return last_failure_;
}

Status RotationJob::request_rotation() {
  Status written = ring_.hsm().write_data(kRotateRequest, std::to_string(clock_.wall_seconds()));
  if (written.ok()) wake();
  return written;
}

Status RotationJob::request_revocation(const std::string& kid) {
  Status written = ring_.hsm().write_data(std::string(kRevokeRequestPrefix) + kid, std::to_string(clock_.wall_seconds()));
  if (written.ok()) wake();
  return written;
}

Status RotationJob::tick() {
  auto read = ring_.refresh();
  if (!read.ok()) return read.error();
  // The probe whatever the lease and the lifecycle steps answer: a full token that fails every
  // step must not keep /readyz at 503 while tokens can be signed.
  auto holding = lease_.hold(clock_.wall_ms());
  Status led = holding.ok() ? ok_status() : Status(holding.error());
  if (holding.ok() && *holding) {
    RingRecord record = read->damaged ? salvage(*read) : std::move(read->record);
    led = lead(record, clock_.wall_seconds());
  }
  probe_signature();
  return led;
}

// Readiness means a signature works (docs/API.md, /readyz): after a start or a reconnection,
// one is made with the active key before any client needs one.
void RotationJob::probe_signature() {
  const auto snapshot = ring_.snapshot();
  const RingKey* active = snapshot->active();
  if (!active || !active->in_token) return;
  const hsm::HealthReport health = ring_.hsm().health();
  if (health.state != hsm::Health::kReady || health.signed_since_recovery) return;
  unsigned char signature[512];
  auto signed_probe = ring_.hsm().sign(active->ref, "signet readiness probe", signature, sizeof signature);
  if (!signed_probe.ok()) log::warn("signature_probe_failed", {{"kid", active->entry.kid}, {"detail", signed_probe.error().message}});
}

// A record that cannot be decoded is never taken for an empty ring in silence: it is kept
// beside the new one for the operator, and repair adopts every key the token holds.
RingRecord RotationJob::salvage(const KeyRing::RecordRead& read) {
  log::error("ring_record_damaged", {{"detail", read.why}, {"bytes", std::to_string(read.raw.size())},
                                     {"action", "adopting every key pair in the token; the damaged record is kept as signet:ring:damaged"}});
  if (auto kept = ring_.hsm().write_data(kDamagedRecordLabel, read.raw); !kept.ok()) {
    log::warn("ring_record_not_kept", {{"detail", kept.error().message}});
  }
  return RingRecord{};
}

Status RotationJob::commit(RingRecord& record, std::string_view failpoint_after) {
  // A replica whose lease ran out while it worked must not write: another may hold it now.
  if (!lease_.valid(clock_.wall_ms(), lease_ttl(policy_) / 3)) {
    return make_error(Code::kHsmUnavailable, "the ring lease ran out before the record was written");
  }
  if (auto written = ring_.write_record(record); !written.ok()) return written;
  failpoint(failpoint_after);
  return ring_.publish(record);
}

// A next key may sign publish_lead() after its created_at, so created_at must not come before
// the moment the record naming it is durable (from then on every replica shows it within
// refresh_interval). The tick's `now` was read before the generation and repair that took part
// of its second: the key is stamped with the second after the write starts instead, and stamped
// again should the write outlast that second. Each write checks the lease, which bounds this.
Status RotationJob::commit_published(RingRecord& record, const std::string& kid, std::string_view failpoint_after) {
  for (;;) {
    RecordEntry* entry = record.find(kid);
    entry->created_at = clock_.wall_seconds() + 1;  // the clock reads whole seconds: this is never early
    if (auto committed = commit(record, failpoint_after); !committed.ok()) return committed;
    if (clock_.wall_seconds() < entry->created_at) return ok_status();
  }
}

// The intent goes into the token before the key pair: a crash after C_GenerateKeyPair then
// leaves an orphan that repair can prove never signed (repair.h). Without the intent it would
// be adopted, never destroyed.
Result<RecordEntry> RotationJob::generate(KeyState state, std::int64_t now) {
  unsigned char raw_id[16];
  if (RAND_bytes(raw_id, sizeof raw_id) != 1) return make_error(Code::kInternal, "the random generator failed");
  const std::string id(reinterpret_cast<const char*>(raw_id), sizeof raw_id);
  const std::string intent = std::string(kIntentLabelPrefix) + hex::encode(id);
  if (auto written = ring_.hsm().write_data(intent, std::to_string(now)); !written.ok()) return written.error();
  auto info = ring_.hsm().generate_key(scheme_for(ring_.options().algorithm), ring_.options().rsa_bits, id);
  if (!info.ok()) return info.error();  // the intent stays until the next repair clears it
  failpoint("after_generate");
  RingKey key = describe(*info);
  RecordEntry entry = key.entry;
  entry.jwk = key.jwk_json;
  entry.state = state;
  entry.created_at = now;
  entry.activated_at = state == KeyState::kActive ? now : 0;
  log::info("key_generated", {{"kid", entry.kid}, {"alg", entry.alg}, {"state", state_name(state)}});
  if (on_event_) on_event_(KeyEvent::kGenerated, entry.kid);
  return entry;
}

// Reads the token (keys, intents, reservations) and carries out plan_repair's plan.
Status RotationJob::repair(RingRecord& record, std::int64_t now) {
  auto listed = ring_.token_keys();
  if (!listed.ok()) return listed.error();
  auto intent_objects = ring_.hsm().list_data(kIntentLabelPrefix);
  if (!intent_objects.ok()) return intent_objects.error();
  auto usage = ring_.read_usage();
  if (!usage.ok()) return usage.error();

  std::vector<TokenKey> token;
  for (const auto& info : *listed) {
    RingKey key = describe(info);
    token.push_back(TokenKey{key.entry.id_hex, key.entry.kid, key.entry.alg, key.jwk_json});
  }
  std::set<std::string> intents;
  for (const auto& [label, value] : *intent_objects) intents.insert(label.substr(kIntentLabelPrefix.size()));

  RepairPlan plan = plan_repair(std::move(record), token, intents, total_usage(*usage), now);
  record = std::move(plan.record);
  for (const auto& kid : plan.lost) {
    log::error("key_lost", {{"kid", kid}, {"detail", "the token no longer holds this recorded key; it is retired and "
                                                       "stays published until its tokens expire"}});
    if (on_event_) on_event_(KeyEvent::kLost, kid);
  }
  for (const auto& kid : plan.adopted) {
    log::warn("key_adopted", {{"kid", kid}, {"detail", "a key pair no record names; published as retiring"}});
    if (on_event_) on_event_(KeyEvent::kAdopted, kid);
  }
  if (!plan.reactivated.empty()) {
    log::warn("key_reactivated", {{"kid", plan.reactivated}, {"detail", "the ring had no active key; this adopted key was signing last"}});
  }
  if (plan.changed) {
    if (auto committed = commit(record, "after_repair"); !committed.ok()) return committed;
  }
  const auto destroy_all = [this](const std::vector<std::string>& ids, const char* detail) -> Status {
    for (const auto& id_hex : ids) {
      auto id = key_id(id_hex);
      if (!id.ok()) return id.error();
      if (auto destroyed = ring_.hsm().destroy_key(*id); !destroyed.ok()) return destroyed;
      log::warn("interrupted_key_destroyed", {{"id", id_hex}, {"detail", detail}});
    }
    return ok_status();
  };
  if (auto done = destroy_all(plan.destroy, "generated but never recorded; it never signed"); !done.ok()) return done;
  if (auto done = destroy_all(plan.finish_destroy, "its destruction was recorded, then interrupted"); !done.ok()) {
    return done;
  }
  for (const auto& id_hex : plan.clear_intents) {
    if (auto cleared = ring_.hsm().destroy_data(std::string(kIntentLabelPrefix) + id_hex); !cleared.ok()) return cleared;
  }
  return ok_status();
}

Status RotationJob::carry_out(const Decision& decision, RingRecord& record, std::int64_t now) {
  switch (decision.step) {
    case Step::kNone:
      return ok_status();
    case Step::kActivateFirst:
    case Step::kGenerateNext: {
      const KeyState state = decision.step == Step::kActivateFirst ? KeyState::kActive : KeyState::kNext;
      auto entry = generate(state, now);
      if (!entry.ok()) return entry.error();
      record.keys.push_back(*entry);
      const Status committed = state == KeyState::kActive ? commit(record, "after_record_first")
                                                          : commit_published(record, entry->kid, "after_record_next");
      if (!committed.ok()) return committed;
      return ring_.hsm().destroy_data(std::string(kIntentLabelPrefix) + entry->id_hex);
    }
    case Step::kPromote: {
      std::string retired;
      for (auto& e : record.keys) {
        if (e.state == KeyState::kActive) {
          e.state = KeyState::kRetiring;
          e.retired_at = now;
          retired = e.kid;
        } else if (e.kid == decision.kid) {
          e.state = KeyState::kActive;
          e.activated_at = now;
        }
      }
      if (auto committed = commit(record, "after_promote"); !committed.ok()) return committed;
      log::info("key_promoted", {{"kid", decision.kid}, {"retiring", retired}, {"reason", decision.reason}});
      if (on_event_) on_event_(KeyEvent::kPromoted, decision.kid);
      return ok_status();
    }
    case Step::kDestroy: {
      const RecordEntry* entry = record.find(decision.kid);
      if (!entry) return ok_status();
      const auto id = key_id(entry->id_hex);
      if (!id.ok()) return id.error();
      record.destroying.push_back(entry->id_hex);
      record.keys.erase(record.keys.begin() + (entry - record.keys.data()));
      if (auto committed = commit(record, "after_record_destroy"); !committed.ok()) return committed;
      if (auto destroyed = ring_.hsm().destroy_key(*id); !destroyed.ok()) return destroyed;
      failpoint("after_destroy");
      log::info("key_destroyed", {{"kid", decision.kid}, {"reason", decision.reason}});
      if (on_event_) on_event_(KeyEvent::kDestroyed, decision.kid);
      return ok_status();
    }
  }
  return ok_status();
}

// The compromise drill: a revoked active key hands over at once (to the next key, or to a new
// one: pre-publication gives way to compromise), leaves the JWKS, and is destroyed.
Status RotationJob::revoke(const std::string& kid, RingRecord& record, std::int64_t now) {
  const RecordEntry* entry = record.find(kid);
  if (!entry) return ok_status();
  const std::string id_hex = entry->id_hex;  // entry does not outlive a new key's push_back
  const auto id = key_id(id_hex);
  if (!id.ok()) return id.error();
  if (entry->state == KeyState::kActive) {
    RecordEntry* next = nullptr;
    for (auto& e : record.keys) {
      if (e.state == KeyState::kNext) next = &e;
    }
    if (next) {
      next->state = KeyState::kActive;
      next->activated_at = now;
    } else {
      auto fresh = generate(KeyState::kActive, now);
      if (!fresh.ok()) return fresh.error();
      record.keys.push_back(*fresh);
    }
  }
  record.destroying.push_back(id_hex);
  record.keys.erase(std::remove_if(record.keys.begin(), record.keys.end(), [&](const RecordEntry& e) { return e.kid == kid; }),
                    record.keys.end());
  if (auto committed = commit(record, "after_record_revoke"); !committed.ok()) return committed;
  if (auto destroyed = ring_.hsm().destroy_key(*id); !destroyed.ok()) return destroyed;
  log::warn("key_revoked", {{"kid", kid}, {"detail", "removed from the JWKS and destroyed in the token"}});
  if (on_event_) on_event_(KeyEvent::kRevoked, kid);
  return ok_status();
}

void RotationJob::collect_garbage(const RingRecord& record) {
  auto usage = ring_.read_usage();
  if (!usage.ok()) return;
  for (const auto& u : *usage) {
    if (u.replica == ring_.options().replica) continue;
    const bool still_used = std::any_of(u.keys.begin(), u.keys.end(), [&](const auto& k) { return record.find(k.first); });
    if (!still_used) static_cast<void>(ring_.hsm().destroy_data(std::string(kUsageLabelPrefix) + u.replica));
  }
  lease_.collect_stale_claims(clock_.wall_ms());
}

Status RotationJob::lead(RingRecord& record, std::int64_t now) {
  if (auto repaired = repair(record, now); !repaired.ok()) return repaired;

  auto requests = ring_.hsm().list_data(kRequestLabelPrefix);
  if (!requests.ok()) return requests.error();
  bool rotate_requested = false;
  for (const auto& [label, value] : *requests) {
    if (label == kRotateRequest) rotate_requested = true;
    if (label.rfind(kRevokeRequestPrefix, 0) == 0) {
      if (auto revoked = revoke(label.substr(kRevokeRequestPrefix.size()), record, now); !revoked.ok()) return revoked;
      if (auto done = ring_.hsm().destroy_data(label); !done.ok()) return done;
    }
  }

  auto usage = ring_.read_usage();
  if (!usage.ok()) return usage.error();
  const UsageTotals totals = total_usage(*usage);
  std::string held;
  for (int i = 0; i < kMaxStepsPerTick; ++i) {
    const Decision decision = decide(record, totals, policy_, now, rotate_requested);
    if (decision.held) held = decision.reason;
    if (decision.step == Step::kNone) break;
    if (auto done = carry_out(decision, record, now); !done.ok()) return done;
    if (decision.step == Step::kPromote && rotate_requested) {
      rotate_requested = false;
      if (auto consumed = ring_.hsm().destroy_data(kRotateRequest); !consumed.ok()) return consumed;
    }
  }
  {
    std::lock_guard lock(mutex_);
    if (!held.empty() && held != held_reason_) log::warn("rotation_held", {{"reason", held}});
    held_reason_ = held;
  }
  collect_garbage(record);
  return ok_status();
}

}  // namespace signet::ring
