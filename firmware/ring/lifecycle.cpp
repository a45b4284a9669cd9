#include "firmware/ring/lifecycle.h"

#include <algorithm>

namespace signet::ring {

std::int64_t LifecyclePolicy::publish_lead() const {
  return std::max(prepublish, jwks_max_age) + refresh_interval;
}

UsageTotals total_usage(const std::vector<UsageRecord>& records) {
  UsageTotals totals;
  for (const auto& record : records) {
    for (const auto& [kid, usage] : record.keys) {
      KeyUsage& total = totals[kid];
      total.latest_exp = std::max(total.latest_exp, usage.latest_exp);
      total.tokens += usage.tokens;
    }
  }
  return totals;
}

std::int64_t destroy_at(const RecordEntry& key, const UsageTotals& usage, const LifecyclePolicy& policy) {
  const auto it = usage.find(key.kid);
  const std::int64_t latest_exp = it == usage.end() ? 0 : it->second.latest_exp;
  const std::int64_t last_valid = key.adopted ? key.retired_at + policy.max_token_lifetime : key.retired_at;
  return std::max(latest_exp, last_valid) + policy.retire_grace + policy.jwks_max_age;
}

std::int64_t jwks_cache_seconds(std::int64_t max_age, std::int64_t refresh_interval, std::int64_t staleness_ms) {
  const std::int64_t left_ms = (max_age + refresh_interval) * 1000 - staleness_ms;
  return std::min(max_age, left_ms <= 0 ? 0 : left_ms / 1000);
}

std::int64_t rotate_at(const RecordEntry& active, const LifecyclePolicy& policy) {
  return active.activated_at + policy.rotate_every;
}

Decision decide(const RingRecord& record, const UsageTotals& usage, const LifecyclePolicy& policy, std::int64_t now,
                bool rotate_requested) {
  const RecordEntry* active = record.active();
  if (!active) {
    if (const RecordEntry* next = record.next()) return {Step::kPromote, next->kid, "the ring has no active key", false};
    return {Step::kActivateFirst, "", "the ring has no active key", false};
  }

  // Destruction first: it frees a place under the cap that a rotation may be waiting for.
  for (const auto& key : record.keys) {
    if (key.state == KeyState::kRetiring && now >= destroy_at(key, usage, policy)) {
      return {Step::kDestroy, key.kid, "no token it signed can still be valid", false};
    }
  }

  const auto signed_by_active = usage.count(active->kid) ? usage.at(active->kid).tokens : 0;
  const bool by_time = now >= rotate_at(*active, policy);
  const bool by_count = policy.max_tokens_per_key != 0 && signed_by_active >= policy.max_tokens_per_key;
  const RecordEntry* next = record.next();

  if (next && (by_time || by_count || rotate_requested)) {
    if (now >= next->created_at + policy.publish_lead()) {
      const char* why = rotate_requested ? "an operator asked for a rotation"
                        : by_count       ? "the active key reached max_tokens_per_key"
                                         : "the active key reached rotate_every";
      return {Step::kPromote, next->kid, why, false};
    }
    return {Step::kNone, next->kid, "a rotation is due; the next key is not yet published long enough", true};
  }

  if (!next) {
    if (record.keys.size() >= policy.max_published) {
      const bool due = by_time || by_count || rotate_requested;
      return {Step::kNone, "", "keys.max_published holds back a next key until a retiring key is destroyed", due};
    }
    return {Step::kGenerateNext, "", "the ring has no next key", false};
  }
  return {};
}

}  // namespace signet::ring
