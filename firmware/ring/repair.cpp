#include "firmware/ring/repair.h"

#include <algorithm>
#include <map>

namespace signet::ring {
namespace {

void retire(RecordEntry& entry, std::int64_t now) {
  entry.state = KeyState::kRetiring;
  entry.retired_at = now;
}

// Recorded keys the token lacks: retired (still published from the record's JWK), or dropped
// when the record has no JWK to publish them by.
void settle_missing(RepairPlan& plan, const std::map<std::string, const TokenKey*>& in_token, std::int64_t now) {
  auto& keys = plan.record.keys;
  const auto unpublishable = std::remove_if(keys.begin(), keys.end(), [&](const RecordEntry& e) {
    return !in_token.count(e.id_hex) && e.jwk.empty();
  });
  plan.changed |= unpublishable != keys.end();
  keys.erase(unpublishable, keys.end());
  for (auto& e : keys) {
    const auto it = in_token.find(e.id_hex);
    if (it == in_token.end()) {
      if (e.state != KeyState::kRetiring) {
        retire(e, now);
        plan.lost.push_back(e.kid);
        plan.changed = true;
      }
    } else if (e.jwk.empty()) {  // a record of an older version: keep the JWK from now on
      e.jwk = it->second->jwk;
      plan.changed = true;
    }
  }
}

// Of two active keys (never written by Signet), the newer stays active.
void one_active(RepairPlan& plan, std::int64_t now) {
  RecordEntry* newest = nullptr;
  for (auto& e : plan.record.keys) {
    if (e.state != KeyState::kActive) continue;
    if (newest && newest->activated_at >= e.activated_at) {
      retire(e, now);
      plan.changed = true;
      continue;
    }
    if (newest) {
      retire(*newest, now);
      plan.changed = true;
    }
    newest = &e;
  }
}

void adopt_or_destroy(RepairPlan& plan, const std::vector<TokenKey>& token, const std::set<std::string>& intents,
                      std::int64_t now) {
  for (const auto& key : token) {
    const bool named = std::any_of(plan.record.keys.begin(), plan.record.keys.end(),
                                   [&](const RecordEntry& e) { return e.id_hex == key.id_hex; });
    if (named) continue;
    if (intents.count(key.id_hex)) {
      plan.destroy.push_back(key.id_hex);
      continue;
    }
    const auto& destroying = plan.record.destroying;
    if (std::find(destroying.begin(), destroying.end(), key.id_hex) != destroying.end()) {
      plan.finish_destroy.push_back(key.id_hex);
      continue;
    }
    RecordEntry e;
    e.id_hex = key.id_hex;
    e.kid = key.kid;
    e.alg = key.alg;
    e.jwk = key.jwk;
    e.created_at = now;
    e.adopted = true;
    retire(e, now);
    plan.record.keys.push_back(std::move(e));
    plan.adopted.push_back(key.kid);
    plan.changed = true;
  }
}

// A destruction is done once the token no longer holds the pair: its id is forgotten at the
// record's next write (no write of its own: the id is inert meanwhile). An id the record also
// names as a key was never Signet's doing; the key wins.
void forget_destroyed(RepairPlan& plan, const std::map<std::string, const TokenKey*>& in_token) {
  auto& ids = plan.record.destroying;
  ids.erase(std::remove_if(ids.begin(), ids.end(), [&](const std::string& id_hex) {
              const bool named = std::any_of(plan.record.keys.begin(), plan.record.keys.end(),
                                             [&](const RecordEntry& e) { return e.id_hex == id_hex; });
              return named || !in_token.count(id_hex);
            }),
            ids.end());
}

// A ring with neither an active nor a next key lost its record: the key that was signing is
// the adopted one with the latest reservation, or the only key the token holds.
void reactivate(RepairPlan& plan, const std::map<std::string, const TokenKey*>& in_token, const UsageTotals& usage,
                std::int64_t now) {
  auto& keys = plan.record.keys;
  if (plan.record.active() || plan.record.next() || plan.adopted.empty()) return;
  RecordEntry* chosen = nullptr;
  std::int64_t latest = 0;
  for (auto& e : keys) {
    if (!e.adopted || !in_token.count(e.id_hex)) continue;
    const auto it = usage.find(e.kid);
    const std::int64_t exp = it == usage.end() ? 0 : it->second.latest_exp;
    if (exp > latest) {
      latest = exp;
      chosen = &e;
    }
  }
  if (!chosen && keys.size() == 1 && in_token.count(keys.front().id_hex)) chosen = &keys.front();
  if (!chosen) return;
  chosen->state = KeyState::kActive;
  chosen->activated_at = now;
  chosen->retired_at = 0;
  plan.reactivated = chosen->kid;
}

}  // namespace

RepairPlan plan_repair(RingRecord record, const std::vector<TokenKey>& token, const std::set<std::string>& intents,
                       const UsageTotals& usage, std::int64_t now) {
  RepairPlan plan;
  plan.record = std::move(record);
  std::map<std::string, const TokenKey*> in_token;
  for (const auto& key : token) in_token.emplace(key.id_hex, &key);

  settle_missing(plan, in_token, now);
  one_active(plan, now);
  forget_destroyed(plan, in_token);
  adopt_or_destroy(plan, token, intents, now);
  reactivate(plan, in_token, usage, now);

  // Every intent is done with once its key is named, destroyed, or was never made.
  plan.clear_intents.assign(intents.begin(), intents.end());
  return plan;
}

}  // namespace signet::ring
