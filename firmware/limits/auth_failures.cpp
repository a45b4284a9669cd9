#include "firmware/limits/auth_failures.h"

#include <openssl/rand.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace signet::limits {
namespace {

std::int64_t to_ms(AuthFailures::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::int64_t seconds_until(std::int64_t until_ms, std::int64_t now_ms) {
  return std::max<std::int64_t>(1, (until_ms - now_ms + 999) / 1000);
}

// SipHash-2-4 (Aumasson and Bernstein): a keyed hash whose outputs an attacker who does not
// know the key cannot steer into one set of the table.
std::uint64_t siphash24(const std::array<std::uint64_t, 2>& key, const unsigned char* in, std::size_t length) {
  std::uint64_t v0 = 0x736f6d6570736575ULL ^ key[0], v1 = 0x646f72616e646f6dULL ^ key[1];
  std::uint64_t v2 = 0x6c7967656e657261ULL ^ key[0], v3 = 0x7465646279746573ULL ^ key[1];
  const auto round = [&] {
    v0 += v1; v1 = std::rotl(v1, 13); v1 ^= v0; v0 = std::rotl(v0, 32);
    v2 += v3; v3 = std::rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = std::rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = std::rotl(v1, 17); v1 ^= v2; v2 = std::rotl(v2, 32);
  };
  const auto word = [](const unsigned char* p, std::size_t n) {
    std::uint64_t w = 0;
    for (std::size_t i = 0; i < n; ++i) w |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    return w;
  };
  std::size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    const std::uint64_t m = word(in + i, 8);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  const std::uint64_t last = word(in + i, length - i) | (static_cast<std::uint64_t>(length & 0xff) << 56);
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xff;
  for (int r = 0; r < 4; ++r) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

}  // namespace

std::string_view AuthFailures::reason_name(Reason reason) {
  switch (reason) {
    case Reason::kMissing: return "missing_credentials";
    case Reason::kMalformed: return "malformed_credentials";
    case Reason::kUnknownKey: return "unknown_api_key";
    case Reason::kWrongSecret: return "wrong_client_secret";
    case Reason::kUnknownCertificate: return "unknown_certificate";
  }
  return "unknown";
}

AuthFailures::AuthFailures(Options options)
    : options_(options), forgive_ms_(std::max<std::int64_t>(1, options.forgive_every.count() * 1000)) {
  const std::size_t sets = std::bit_ceil(std::max<std::size_t>(1, (options.capacity + kWays - 1) / kWays));
  set_mask_ = sets - 1;
  slots_ = std::make_unique<Slot[]>(sets * kWays);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(sip_key_.data()), sizeof sip_key_) != 1) {
    // Without the CSPRNG, an attacker could predict the sets; the table still works.
    sip_key_ = {static_cast<std::uint64_t>(to_ms(Clock::now())), reinterpret_cast<std::uintptr_t>(this)};
  }
}

std::uint64_t AuthFailures::hash(std::string_view bytes, bool is_client) const {
  // Addresses and client ids never share a key: the domain is the first byte hashed.
  unsigned char buffer[80];
  const std::size_t n = std::min(bytes.size(), sizeof buffer - 1);
  buffer[0] = is_client ? 'c' : 'a';
  std::memcpy(buffer + 1, bytes.data(), n);
  return siphash24(sip_key_, buffer, n + 1) | (1ULL << 63);
}

const AuthFailures::Slot* AuthFailures::find(std::uint64_t key) const {
  const Slot* set = &slots_[(key & set_mask_) * kWays];
  for (std::size_t i = 0; i < kWays; ++i) {
    if (set[i].key.load(std::memory_order_acquire) == key) return &set[i];
  }
  return nullptr;
}

AuthFailures::Slot& AuthFailures::find_or_claim(std::uint64_t key, std::int64_t now_ms) {
  Slot* set = &slots_[(key & set_mask_) * kWays];
  Slot* victim = &set[0];
  std::int64_t victim_weight = INT64_MAX;
  for (std::size_t i = 0; i < kWays; ++i) {
    if (set[i].key.load(std::memory_order_relaxed) == key) return set[i];
    // What an entry still holds against its owner: forgiven and unblocked weigh nothing.
    const std::int64_t weight = std::max({set[i].clear_at.load(std::memory_order_relaxed),
                                          set[i].blocked_until.load(std::memory_order_relaxed), now_ms});
    const std::int64_t w = set[i].key.load(std::memory_order_relaxed) == 0 ? INT64_MIN : weight;
    if (w < victim_weight) {
      victim = &set[i];
      victim_weight = w;
    }
  }
  // Readers compare the key before and after reading a field, so they never take the old
  // entry's block for the new one's.
  victim->key.store(0, std::memory_order_release);
  victim->clear_at.store(0, std::memory_order_relaxed);
  victim->blocked_until.store(0, std::memory_order_release);
  victim->key.store(key, std::memory_order_release);
  return *victim;
}

std::int64_t AuthFailures::add_failure(Slot& slot, std::int64_t now_ms) const {
  const std::int64_t clear_at = std::max(slot.clear_at.load(std::memory_order_relaxed), now_ms) + forgive_ms_;
  slot.clear_at.store(clear_at, std::memory_order_relaxed);
  return (clear_at - now_ms + forgive_ms_ - 1) / forgive_ms_;
}

std::int64_t AuthFailures::backoff_ms(std::int64_t excess) const {
  const std::int64_t cap = std::max<std::int64_t>(1000, options_.max_backoff.count() * 1000);
  if (excess > 40) return cap;
  return std::min(cap, std::int64_t{1000} << (excess - 1));
}

Decision AuthFailures::admit(const Address& address, Clock::time_point now) {
  if (options_.threshold == 0) return {true, 0};
  const std::uint64_t key = hash(address.key(), false);
  const Slot* slot = find(key);
  if (!slot) return {true, 0};
  const std::int64_t blocked_until = slot->blocked_until.load(std::memory_order_acquire);
  const std::int64_t now_ms = to_ms(now);
  if (blocked_until <= now_ms || slot->key.load(std::memory_order_acquire) != key) return {true, 0};
  refused_.fetch_add(1, std::memory_order_relaxed);
  return {false, seconds_until(blocked_until, now_ms)};
}

Decision AuthFailures::record(Reason reason, const Address& address, std::string_view client_id,
                              Clock::time_point now) {
  failures_[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  if (reason == Reason::kMissing || options_.threshold == 0) return {true, 0};
  const std::int64_t now_ms = to_ms(now);
  const std::int64_t threshold = options_.threshold;
  std::lock_guard lock(mu_);
  std::int64_t id_excess = 0;
  if (!client_id.empty()) id_excess = add_failure(find_or_claim(hash(client_id, true), now_ms), now_ms) - threshold;
  // Claimed last: should both share a set, the address (what gets blocked) is the one kept.
  Slot& from = find_or_claim(hash(address.key(), false), now_ms);
  const std::int64_t excess = std::max(add_failure(from, now_ms) - threshold, id_excess);
  if (excess <= 0) return {true, 0};
  const std::int64_t until = now_ms + backoff_ms(excess);
  if (until > from.blocked_until.load(std::memory_order_relaxed)) from.blocked_until.store(until, std::memory_order_release);
  backoffs_.fetch_add(1, std::memory_order_relaxed);
  return {false, seconds_until(from.blocked_until.load(std::memory_order_relaxed), now_ms)};
}

void AuthFailures::render_metrics(std::string& out, Clock::time_point now) const {
  out += "# TYPE signet_auth_failures_total counter\n";
  for (std::size_t r = 0; r < kReasons; ++r) {
    out += "signet_auth_failures_total{reason=\"" + std::string(reason_name(static_cast<Reason>(r))) + "\"} " +
           std::to_string(failures_[r].load(std::memory_order_relaxed)) + "\n";
  }
  out += "# TYPE signet_auth_backoffs_total counter\nsignet_auth_backoffs_total " +
         std::to_string(backoffs_.load(std::memory_order_relaxed)) + "\n";
  out += "# TYPE signet_auth_refused_total counter\nsignet_auth_refused_total " +
         std::to_string(refused_.load(std::memory_order_relaxed)) + "\n";
  const std::int64_t now_ms = to_ms(now);
  std::size_t blocked = 0;
  for (std::size_t i = 0; i <= set_mask_; ++i) {
    for (std::size_t w = 0; w < kWays; ++w) {
      const Slot& slot = slots_[i * kWays + w];
      if (slot.key.load(std::memory_order_relaxed) != 0 && slot.blocked_until.load(std::memory_order_relaxed) > now_ms) {
        ++blocked;
      }
    }
  }
  out += "# TYPE signet_auth_blocked_addresses gauge\nsignet_auth_blocked_addresses " + std::to_string(blocked) + "\n";
}

}  // namespace signet::limits
