#include "firmware/issuance/signing_gate.h"

#include <algorithm>

#include "hsm/hsm.h"

namespace signet::issuance {
namespace {

// Seconds, rounded up, never below 1: Retry-After is whole seconds and 0 invites a stampede.
long retry_after(std::chrono::milliseconds max_wait) {
  return std::max(1L, static_cast<long>((max_wait.count() + 999) / 1000));
}

}  // namespace

SigningGate::SigningGate(Options options)
    : options_{std::max<std::size_t>(1, options.concurrency), options.max_waiting, options.max_wait} {}

bool SigningGate::try_take() {
  std::size_t used = in_use_.load();
  while (used < options_.concurrency) {
    if (in_use_.compare_exchange_weak(used, used + 1)) return true;
  }
  return false;
}

Result<SigningGate::Permit> SigningGate::enter() {
  // Fast path: a free slot and no one ahead of us.
  if (waiting_.load() == 0 && try_take()) return Permit(this);

  const auto deadline = std::chrono::steady_clock::now() + options_.max_wait;
  std::unique_lock lock(mu_);
  // waiting_ only grows under mu_, so this check and the increment below are one step.
  if (waiting_.load() >= options_.max_waiting) {
    refused_full_.fetch_add(1, std::memory_order_relaxed);
    Error error = make_error(Code::kOverloaded, "the signing queue is full (" +
                                                    std::to_string(options_.max_waiting) + " waiting)");
    error.retry_after_seconds = retry_after(options_.max_wait);
    return error;
  }
  waiting_.fetch_add(1);
  // try_take() runs under mu_ before each sleep; release() notifies under mu_ whenever it sees
  // a waiter, and a release that saw none happened before our increment, so try_take sees it.
  const bool taken = freed_.wait_until(lock, deadline, [this] { return try_take(); });
  waiting_.fetch_sub(1);
  if (taken) return Permit(this);
  refused_deadline_.fetch_add(1, std::memory_order_relaxed);
  Error error = make_error(Code::kOverloaded, "no HSM signing slot freed up within " +
                                                  std::to_string(options_.max_wait.count()) + " ms");
  error.retry_after_seconds = retry_after(options_.max_wait);
  return error;
}

void SigningGate::release() {
  in_use_.fetch_sub(1);
  if (waiting_.load() == 0) return;  // the fast path's only cost: one load
  std::lock_guard lock(mu_);
  freed_.notify_one();
}

void SigningGate::render_metrics(std::string& out) const {
  out += "# TYPE signet_signing_queue_depth gauge\nsignet_signing_queue_depth " + std::to_string(waiting()) + "\n";
  out += "# TYPE signet_signing_in_flight gauge\nsignet_signing_in_flight " + std::to_string(in_use()) + "\n";
  out += "# TYPE signet_signing_refused_total counter\n";
  out += "signet_signing_refused_total{reason=\"queue_full\"} " + std::to_string(refused_queue_full()) + "\n";
  out += "signet_signing_refused_total{reason=\"deadline\"} " + std::to_string(refused_deadline()) + "\n";
}

namespace {

constexpr std::size_t kKeptForTheRing = 2;

// Signing slots: the setting, else the HSM's sessions; never more than the sessions allow.
std::size_t signing_slots(const config::Limits& limits, std::size_t hsm_sessions) {
  if (hsm_sessions == 0) hsm_sessions = hsm::Options{}.max_sessions;
  const std::size_t room = hsm_sessions > kKeptForTheRing ? hsm_sessions - kKeptForTheRing : 1;
  return limits.max_signing_concurrency ? std::min(limits.max_signing_concurrency, room) : room;
}

}  // namespace

SigningGate::Options signing_gate_options(const config::Limits& limits, std::size_t hsm_sessions) {
  SigningGate::Options options;
  options.concurrency = signing_slots(limits, hsm_sessions);
  options.max_waiting = limits.max_signing_queue;
  options.max_wait = std::chrono::milliseconds(limits.max_signing_wait_ms);
  return options;
}

unsigned http_worker_threads(const config::Limits& limits, unsigned cores) {
  constexpr std::size_t kMaxThreads = 256;
  const std::size_t per_core = std::max(1u, cores);
  const std::size_t slots = signing_slots(limits, 0);
  const std::size_t wanted = std::min(slots + limits.max_signing_queue + per_core, kMaxThreads);
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(wanted, limits.max_connections)));
}

}  // namespace signet::issuance
