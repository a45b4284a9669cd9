// The key ring: Signet's published keys and the one active key that signs, as this process
// sees them in the token. Readers (every request) take an immutable snapshot with one atomic
// load: the JWKS bytes, their ETag and the active key's pre-encoded JWS headers are rendered
// once per ring change, so a request copies nothing. The rotation job (rotation_job.h) is the
// only writer of the ring record; every replica refreshes its snapshot from the token.
//
// Before a token is signed, reserve() makes sure this replica's usage record in the token
// already covers the token's exp and count: a lock-free check of two atomics on the hot path,
// and a token write once per reservation block.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "firmware/jose/jwk.h"
#include "firmware/ring/clock.h"
#include "firmware/ring/ring_record.h"
#include "firmware/verify/verifier.h"
#include "hsm/hsm.h"

namespace signet::ring {

// What this replica signed and reserved with one key, shared by all snapshots that hold it.
struct KeyCounters {
  std::atomic<std::uint64_t> signed_count{0};
  std::atomic<std::int64_t> reserved_exp{0};
  std::atomic<std::uint64_t> reserved_count{0};
};

struct RingKey {
  RecordEntry entry;
  jose::Alg alg = jose::Alg::kES256;
  hsm::KeyRef ref;
  // Whether the token showed this key's private half: a recorded key it lacks (destroyed behind
  // Signet's back) stays published from the record's JWK, but never signs.
  bool in_token = false;
  std::string jwk_json;  // the public JWK, as published
  bool local = false;
  bool always_sensitive = false;
  bool never_extractable = false;
  bool mechanism_bound = false;  // the token reported CKA_ALLOWED_MECHANISMS (hsm::KeyInfo)
  std::shared_ptr<KeyCounters> counters;
};

struct Snapshot {
  bool loaded = false;        // false until the ring record was read once: nothing to publish yet
  std::uint64_t serial = 0;   // of the ring record it shows
  std::vector<RingKey> keys;  // every published key (next, active, retiring)
  std::string jwks_body;      // {"keys":[...]}
  std::string etag;           // strong: a quoted digest of jwks_body, the same on every replica
  // base64url JWS headers of the active key, one per typ the profiles use.
  std::vector<std::pair<std::string, std::string>> active_headers;
  // The published keys as the relying-party verifier reads them (POST /v1/verify).
  verify::KeySet verifier_keys;

  const RingKey* active() const;  // nullptr until the ring has an active key
  const RingKey* newest_retiring() const;
  const RingKey* find(std::string_view kid) const;
  // The active key's encoded header for typ, or nullptr for a typ no profile declared.
  const std::string* header_for(std::string_view typ) const;
};

struct RingOptions {
  jose::Alg algorithm = jose::Alg::kES256;
  unsigned rsa_bits = 2048;
  std::vector<std::string> typs;  // every typ a profile declares
  std::string replica;            // this process's id in usage and lease records
  std::uint64_t reserve_tokens = 10000;  // tokens reserved per usage write
};

class KeyRing {
 public:
  // clock: the time of the ring and of the rotation job that keeps it (tests drive their own).
  KeyRing(hsm::Hsm& hsm, RingOptions options, Clock& clock = system_clock());

  std::shared_ptr<const Snapshot> snapshot() const { return current_.load(std::memory_order_acquire); }

  // What reading the ring record found. A record that cannot be decoded is not an error here,
  // since the lease holder must act on it (adopt the token's keys): it is `damaged`, with the
  // raw bytes kept for the operator.
  struct RecordRead {
    RingRecord record;
    bool found = false;  // false: the token holds no record (fresh, or someone deleted it)
    bool damaged = false;
    std::string why;  // when damaged
    std::string raw;  // when damaged
  };

  // Reads the ring record and shows it, re-reading the token's key pairs when it changed or the
  // token logged us in again. A damaged record, or a missing one after a record was shown,
  // leaves the snapshot as it was until the lease holder has repaired the ring. Answers what
  // was read, for the rotation job.
  Result<RecordRead> refresh();
  // Shows a record this process has just written.
  Status publish(const RingRecord& record);

  // How long ago the ring was last read from the token (refresh() or publish() that worked), in
  // milliseconds on the monotonic clock; a large number before the first. What is published may
  // lack a key written since: jwks_cache_seconds() bounds how long a relying party may keep it.
  std::int64_t staleness_ms() const;

  // Token I/O for the rotation job.
  Result<RecordRead> read_record();
  // Bumps the serial past both the record's and every serial this process has shown, so that a
  // ring rebuilt after a lost or damaged record still reads as newer on every replica.
  Status write_record(RingRecord& record);
  Result<std::vector<UsageRecord>> read_usage();
  Result<std::vector<hsm::KeyInfo>> token_keys();
  std::string usage_label() const;

  // Hot path: before a token with this exp and lifetime is signed by key. A write reserves a
  // quarter of the lifetime (1 s to 5 min) beyond exp, so that tokens issued in a row need
  // few writes while a retiring key outlives its last token by little. kHsmUnavailable when
  // the usage record cannot be written (the token must then not be signed).
  Status reserve(const RingKey& key, std::int64_t exp, std::int64_t ttl);

  // Called after every usage write (from a signing thread): lets the rotation job look at a
  // count limit without waiting for its timer. Set once, before serving.
  void on_reservation(std::function<void()> listener) { on_reservation_ = std::move(listener); }

  hsm::Hsm& hsm() { return hsm_; }
  Clock& clock() const { return clock_; }
  const RingOptions& options() const { return options_; }

 private:
  Status publish_locked(const RingRecord& record);
  std::shared_ptr<KeyCounters> counters_for(const std::string& kid);

  hsm::Hsm& hsm_;
  const RingOptions options_;
  Clock& clock_;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<std::int64_t> read_at_ms_{0};  // monotonic; 0: never

  std::mutex refresh_mutex_;  // guards the members below it, up to usage_mutex_
  std::map<std::string, hsm::KeyInfo> token_keys_;  // by lowercase hex id
  std::uint64_t token_keys_generation_ = 0;         // the login generation they were read in
  std::map<std::string, std::shared_ptr<KeyCounters>> counters_;  // by kid

  Status load_own_usage_locked();

  std::mutex usage_mutex_;  // guards usage_ and usage_loaded_
  UsageRecord usage_;
  bool usage_loaded_ = false;
  std::function<void()> on_reservation_;
};

// Renders the published view of a ring: JWKS bytes, ETag and the active key's headers.
std::shared_ptr<const Snapshot> render_snapshot(std::uint64_t serial, std::vector<RingKey> keys,
                                                const std::vector<std::string>& typs);

// The ring's description of a token key pair (kid and JWK from the public half alone).
RingKey describe(const hsm::KeyInfo& info);
// A recorded key the token does not show, published from the record's JWK alone; nullopt
// when the record has no usable JWK for it.
std::optional<RingKey> describe_from_record(const RecordEntry& entry);
hsm::SignScheme scheme_for(jose::Alg alg);

}  // namespace signet::ring
