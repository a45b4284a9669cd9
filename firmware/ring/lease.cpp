#include "firmware/ring/lease.h"

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strict_json.h"

namespace signet::ring {

namespace {
// A claim's value starts with its `until`, zero-padded, so that the greater value is the newer.
constexpr std::size_t kUntilWidth = 21;
}  // namespace

Result<std::vector<Lease::Claim>> Lease::read_claims() {
  auto objects = hsm_.list_data(kLeaseLabelPrefix);
  if (!objects.ok()) return objects.error();
  std::vector<Claim> claims;
  for (const auto& [label, value] : *objects) {
    JsonError error;
    const auto j = value.size() > kUntilWidth ? parse_strict_json(std::string_view(value).substr(kUntilWidth), 4, &error)
                                              : std::nullopt;
    if (!j || !j->is_object()) continue;  // an unreadable claim claims nothing
    Claim c;
    c.replica = j->value("replica", "");
    c.claimed_at = j->value("claimed_at", std::int64_t{0});
    c.until = j->value("until", std::int64_t{0});
    if (!c.replica.empty()) claims.push_back(std::move(c));
  }
  return claims;
}

Status Lease::write_claim(std::int64_t claimed_at, std::int64_t until) {
  // The same replica always writes the same label, and `until` only grows while it holds,
  // so the token layer's pick among torn writes (the greatest value) is the newest claim.
  char value[160];
  std::snprintf(value, sizeof value, "%020" PRId64 R"( {"until":%)" PRId64 R"(,"claimed_at":%)" PRId64 R"(,"replica":"%s"})",
                until, until, claimed_at, replica_.c_str());
  return hsm_.write_data(std::string(kLeaseLabelPrefix) + replica_, value);
}

const Lease::Claim* Lease::winner(const std::vector<Claim>& claims, std::int64_t now_ms) {
  const Claim* best = nullptr;
  for (const auto& c : claims) {
    if (c.until <= now_ms) continue;
    if (!best || c.claimed_at < best->claimed_at || (c.claimed_at == best->claimed_at && c.replica < best->replica)) {
      best = &c;
    }
  }
  return best;
}

Result<bool> Lease::hold(std::int64_t now_ms) {
  auto claims = read_claims();
  if (!claims.ok()) return claims.error();
  const Claim* current = winner(*claims, now_ms);
  if (current && current->replica != replica_) {
    claimed_at_ = 0;
    return false;
  }
  if (current) {  // ours: renew, keeping the claim's age
    if (auto renewed = write_claim(current->claimed_at, now_ms + ttl_.count()); !renewed.ok()) return renewed.error();
    claimed_at_ = current->claimed_at;
    until_ = now_ms + ttl_.count();
    return true;
  }
  // Nobody holds it: claim, let every concurrent claim land, and see who won.
  if (auto claimed = write_claim(now_ms, now_ms + ttl_.count()); !claimed.ok()) return claimed.error();
  clock_.sleep_for(settle_);
  claims = read_claims();
  if (!claims.ok()) return claims.error();
  current = winner(*claims, now_ms + settle_.count());
  if (!current || current->replica != replica_) {
    static_cast<void>(write_claim(0, 0));  // withdraw; best effort, it expires anyway
    claimed_at_ = 0;
    return false;
  }
  claimed_at_ = now_ms;
  until_ = now_ms + ttl_.count();
  log::info("lease_taken", {{"replica", replica_}});
  return true;
}

bool Lease::valid(std::int64_t now_ms, std::chrono::milliseconds margin) const {
  return claimed_at_ != 0 && now_ms + margin.count() < until_;
}

void Lease::collect_stale_claims(std::int64_t now_ms) {
  auto claims = read_claims();
  if (!claims.ok()) return;
  // Long past any settle time or clock skew between replicas: nobody can still be claiming.
  const std::int64_t stale_before = now_ms - 10 * ttl_.count();
  for (const auto& c : *claims) {
    if (c.replica == replica_ || c.until >= stale_before) continue;
    static_cast<void>(hsm_.destroy_data(std::string(kLeaseLabelPrefix) + c.replica));
  }
}

void Lease::release() {
  if (claimed_at_ == 0) return;
  static_cast<void>(write_claim(0, 0));
  claimed_at_ = 0;
}

}  // namespace signet::ring
