// The signing gate: backpressure in front of the HSM. At most `concurrency` signatures run in
// the token at once; a caller that finds them all busy waits in a queue of at most
// `max_waiting` callers, for at most `max_wait`. Past either bound it is refused at once with
// Code::kOverloaded (503 + Retry-After): under a burst the HSM keeps signing at its own pace and
// the excess gets a quick "come back" instead of a latency that grows with the backlog.
//
// The fast path (a slot is free and nobody waits) is one compare-and-swap: no lock, no syscall.
// Only callers that must wait take the mutex. While anyone waits, newcomers skip the fast path
// and go through the mutex too, so a stream of them cannot starve the waiters; among waiters the
// order is the condition variable's, not strictly FIFO, and the deadline bounds every wait alike.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "base/result.h"
#include "config/config.h"

namespace signet::issuance {

class SigningGate {
 public:
  struct Options {
    std::size_t concurrency = 1;            // signatures in the HSM at once (at least 1)
    std::size_t max_waiting = 64;           // callers that may wait for a turn (0: none)
    std::chrono::milliseconds max_wait{250};  // how long one caller may wait
  };

  // The right to one signature; the slot goes back to the gate when the Permit is destroyed.
  class Permit {
   public:
    Permit(Permit&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
    Permit& operator=(Permit&&) = delete;
    Permit(const Permit&) = delete;
    ~Permit() {
      if (gate_) gate_->release();
    }

   private:
    friend class SigningGate;
    explicit Permit(SigningGate* gate) : gate_(gate) {}
    SigningGate* gate_;
  };

  explicit SigningGate(Options options);
  SigningGate(const SigningGate&) = delete;
  SigningGate& operator=(const SigningGate&) = delete;

  // A slot, at once or after waiting. Errors: kOverloaded (retry_after_seconds set) when the
  // queue is full or max_wait passes first.
  Result<Permit> enter();

  const Options& options() const { return options_; }
  std::size_t waiting() const { return waiting_.load(std::memory_order_relaxed); }
  std::size_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
  std::uint64_t refused_queue_full() const { return refused_full_.load(std::memory_order_relaxed); }
  std::uint64_t refused_deadline() const { return refused_deadline_.load(std::memory_order_relaxed); }

  // Prometheus lines: signet_signing_queue_depth, signet_signing_in_flight,
  // signet_signing_refused_total{reason="queue_full"|"deadline"}.
  void render_metrics(std::string& out) const;

 private:
  bool try_take();
  void release();

  const Options options_;
  // in_use_ and waiting_ are sequentially consistent: release() decrements in_use_ and then
  // reads waiting_, a waiter increments waiting_ and then tries in_use_, so at least one of them
  // sees the other and no wake-up is lost (signing_gate.cpp).
  std::atomic<std::size_t> in_use_{0};
  std::atomic<std::size_t> waiting_{0};  // changed under mu_ only; read anywhere
  std::atomic<std::uint64_t> refused_full_{0};
  std::atomic<std::uint64_t> refused_deadline_{0};
  std::mutex mu_;
  std::condition_variable freed_;
};

// The gate for this config and HSM. The queue and the wait come from config.limits, and so may
// the concurrency (limits.max_signing_concurrency). By default it is what the HSM says it can run
// at once: its session pool (hsm_sessions: hsm::Options::max_sessions capped by the token's own
// limit; 0 if unknown, then the pool's default size), less two sessions kept for the key ring's
// own reads and writes, which must never wait behind signers. Not the cores, although SoftHSM2
// signs on ours: measured with 32 clients on 2 cores, a gate of 2 cost a quarter of the
// throughput against 30 (the kernel shares the cores better than a queue in front of them), and a
// network HSM has engines of its own.
SigningGate::Options signing_gate_options(const config::Limits& limits, std::size_t hsm_sessions);

// How many HTTP worker threads (libmicrohttpd's pool) the gate needs. A request keeps its worker
// while it signs, waits in the queue or waits for the audit ledger's flush, so a queue can only
// form, and the ledger's group commit only share a flush, when there are more workers than
// signing slots (with one per core, two requests at most were ever in flight here: ES256 with
// audit.file ran at a third of its speed). So: one per signing slot (as signing_gate_options
// counts them before the HSM is open, so perhaps a few too many), one per queued caller, and one
// per core for the requests that never wait for the HSM (JWKS, health, metrics, refusals), so
// that a full queue is answered at once. At most 256, and no more than limits.max_connections.
unsigned http_worker_threads(const config::Limits& limits, unsigned cores = std::thread::hardware_concurrency());

}  // namespace signet::issuance
