// Failed authentications, counted per client address (and per client id for HTTP Basic), so
// that guessing credentials slows down while a client that knows its own is never locked out
// by someone else's guesses.
//
// Past `threshold` outstanding failures an address is refused (429 with Retry-After) for a
// backoff that doubles with each further failure: 1 s, 2 s, 4 s, ... up to max_backoff.
// Failures are forgiven one per `forgive_every`, so an address that stops guessing is let in
// again and a client that mistyped its key once is never slowed. A client id that draws more
// than `threshold` failures from any addresses (a distributed guess at one client's secret)
// blocks every further address that fails for it at once, for that id's backoff; an address
// that has not failed still authenticates normally, so the real client, elsewhere, is not
// affected. A missing credential is counted for /metrics but is no guess.
//
// Memory is a fixed table of `capacity` entries in sets of 8, keyed by a SipHash of the address
// or id under a key drawn at start (an attacker cannot aim at one set). When a set is full, the
// entry with the least outstanding failures goes, so an attacker cycling addresses evicts its
// own fresh entries, never a blocked one. admit(), the path of every request with credentials,
// takes no lock and allocates nothing; only failures take the table's mutex.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "firmware/limits/address.h"
#include "firmware/limits/rate_limiter.h"

namespace signet::limits {

class AuthFailures {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    unsigned threshold = 10;  // 0: count, never refuse
    std::chrono::seconds max_backoff{900};
    std::chrono::seconds forgive_every{60};
    std::size_t capacity = 4096;  // entries, rounded up to a power of two (at least 8)
  };

  enum class Reason { kMissing, kMalformed, kUnknownKey, kWrongSecret, kUnknownCertificate };
  static constexpr std::size_t kReasons = 5;
  // The word for logs and /metrics, e.g. "unknown_api_key".
  static std::string_view reason_name(Reason reason);

  explicit AuthFailures(Options options);
  AuthFailures(const AuthFailures&) = delete;
  AuthFailures& operator=(const AuthFailures&) = delete;

  // Whether an attempt from address may be checked at all (refused: retry_after_seconds).
  Decision admit(const Address& address, Clock::time_point now);

  // Records a failed attempt (client_id: what HTTP Basic named, else empty) and answers what
  // the address faces from now on: refused means this failure started or lengthened a backoff.
  Decision record(Reason reason, const Address& address, std::string_view client_id, Clock::time_point now);

  // signet_auth_failures_total{reason}, signet_auth_refused_total, signet_auth_backoffs_total,
  // signet_auth_blocked_addresses.
  void render_metrics(std::string& out, Clock::time_point now) const;

 private:
  struct Slot {
    std::atomic<std::uint64_t> key{0};           // 0: empty; top bit always set otherwise
    std::atomic<std::int64_t> clear_at{0};       // ms: when every failure is forgiven
    std::atomic<std::int64_t> blocked_until{0};  // ms
  };
  static constexpr std::size_t kWays = 8;

  std::uint64_t hash(std::string_view bytes, bool is_client) const;
  const Slot* find(std::uint64_t key) const;
  Slot& find_or_claim(std::uint64_t key, std::int64_t now_ms);  // under mu_
  std::int64_t add_failure(Slot& slot, std::int64_t now_ms) const;  // answers outstanding failures
  std::int64_t backoff_ms(std::int64_t excess) const;

  const Options options_;
  const std::int64_t forgive_ms_;
  std::array<std::uint64_t, 2> sip_key_{};
  std::size_t set_mask_ = 0;
  std::unique_ptr<Slot[]> slots_;
  std::mutex mu_;  // writers only

  std::array<std::atomic<std::uint64_t>, kReasons> failures_{};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> backoffs_{0};
};

}  // namespace signet::limits
