// The key lifecycle as pure decisions: given the ring record, what the replicas reserved, the
// policy and the time, which one step comes next. next -> active -> retiring -> destroyed,
// with exactly one active key, a next key published for publish_lead() before it may sign,
// and a retiring key kept until no token it signed can still be valid, nor be cached as
// unknown by a relying party. The rotation job executes the steps; this file only decides.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "firmware/ring/ring_record.h"

namespace signet::ring {

struct LifecyclePolicy {
  std::int64_t rotate_every = 30 * 86400;
  std::uint64_t max_tokens_per_key = 0;  // 0: no count limit
  std::int64_t prepublish = 3600;
  std::int64_t jwks_max_age = 3600;
  std::int64_t retire_grace = 86400;
  std::size_t max_published = 4;
  // How long a replica may serve an older ring before it refreshes: a key is published
  // everywhere only that long after its record was written.
  std::int64_t refresh_interval = 5;
  // The longest lifetime any profile or client may give a token. An adopted key (repair.h) has
  // no trustworthy record of when it last signed, so it is kept at least this long after its
  // adoption, beyond what the usage records reserved.
  std::int64_t max_token_lifetime = 0;

  // How long a next key is published before it may sign: no relying party that honours
  // Cache-Control can hold a JWKS without it by then.
  std::int64_t publish_lead() const;
};

// Totals over every replica's usage record, per kid.
using UsageTotals = std::map<std::string, KeyUsage>;
UsageTotals total_usage(const std::vector<UsageRecord>& records);

// When a retiring key may be destroyed: its latest reserved exp (or its retirement, if later;
// for an adopted key its adoption plus max_token_lifetime), plus retire_grace, plus jwks_max_age.
std::int64_t destroy_at(const RecordEntry& key, const UsageTotals& usage, const LifecyclePolicy& policy);

// When the active key is due for promotion of the next one by time.
std::int64_t rotate_at(const RecordEntry& active, const LifecyclePolicy& policy);

// How long a relying party may cache a JWKS that is `staleness_ms` old. Pre-publication promises
// that a key is in every cached JWKS before it signs: a key is published max(prepublish,
// max_age) + refresh_interval before it may sign, and a replica shows it within refresh_interval,
// so a set that is older than refresh_interval (the replica cannot read its token) may be cached
// only for what is left of that lead: max_age + refresh_interval - staleness, at most max_age.
// Zero or less: the set may lack a key that signs now, and is not to be served at all.
std::int64_t jwks_cache_seconds(std::int64_t max_age, std::int64_t refresh_interval, std::int64_t staleness_ms);

enum class Step {
  kNone,
  kActivateFirst,  // no active key: make one and let it sign at once (a fresh appliance)
  kDestroy,        // a retiring key is past destroy_at
  kPromote,        // next -> active, active -> retiring
  kGenerateNext,   // no next key yet
};

struct Decision {
  Step step = Step::kNone;
  std::string kid;      // the key the step is about (kDestroy)
  std::string reason;   // one sentence for the log
  bool held = false;    // a rotation is due but waits (cap or pre-publication)
};

// rotate_requested: an operator asked for a rotation (it still waits for pre-publication).
Decision decide(const RingRecord& record, const UsageTotals& usage, const LifecyclePolicy& policy, std::int64_t now,
                bool rotate_requested);

}  // namespace signet::ring
