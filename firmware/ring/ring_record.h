// The ring record: which of the token's key pairs Signet publishes, in which state, and since
// when. It lives in the token itself as a private data object (label "signet:ring") beside the
// immutable keys, so that a restart, or a second signetd on the same token, reads the same
// ring. Only the replica holding the lease writes it (see lease.h).
//
// Beside it, each replica keeps a usage record of its own ("signet:usage:<replica>"): per kid,
// the latest exp and the token count it has reserved ahead of signing. A crash can lose
// signatures made after a reservation, never a reservation itself, so what the usage records
// say is always at least what was signed.
//
// Encoding and decoding are pure functions. Every value starts with a fixed-width serial, so
// that of two objects a torn write leaves, the token layer's pick (the greatest value) is the
// newest.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace signet::ring {

inline constexpr std::string_view kRecordLabel = "signet:ring";
inline constexpr std::string_view kUsageLabelPrefix = "signet:usage:";

enum class KeyState { kNext, kActive, kRetiring };

std::string_view state_name(KeyState state);

struct RecordEntry {
  std::string id_hex;  // the token's CKA_ID of the pair, lowercase hex
  std::string kid;     // RFC 7638 thumbprint of the public half
  std::string alg;     // JWS alg the key is bound to
  KeyState state = KeyState::kNext;
  std::int64_t created_at = 0;    // Unix seconds; published from then on
  std::int64_t activated_at = 0;  // 0 until it signs
  std::int64_t retired_at = 0;    // 0 until it stops signing
  // The public JWK as published, so that the JWKS comes from the record alone and never loses a
  // key because the token could not show it for a moment (empty in records of older versions,
  // until the lease holder fills it in from the token).
  std::string jwk{};
  // A key pair found in the token that no record named (the record was lost or damaged): it is
  // published as retiring and kept at least until any token it could have signed has expired.
  bool adopted = false;
};

struct RingRecord {
  std::uint64_t serial = 0;  // increases with every write
  std::vector<RecordEntry> keys;
  // Key pairs whose destruction is decided (retired past every token, or revoked) but maybe not
  // yet done: a key leaves `keys` and enters this list in one write, before C_DestroyObject, so
  // that a crash in between leaves a pair repair finishes off instead of adopting it again (an
  // adopted key would be published anew, a revoked one included). Ids by CKA_ID hex; repair
  // forgets an id once the token no longer holds it.
  std::vector<std::string> destroying;

  const RecordEntry* find(std::string_view kid) const;
  RecordEntry* find(std::string_view kid);
  const RecordEntry* active() const;
  const RecordEntry* next() const;
};

std::string encode_record(const RingRecord& record);
Result<RingRecord> decode_record(std::string_view text);

// What one replica reserved per kid.
struct KeyUsage {
  std::int64_t latest_exp = 0;
  std::uint64_t tokens = 0;
};

struct UsageRecord {
  std::uint64_t serial = 0;
  std::string replica;
  std::map<std::string, KeyUsage> keys;  // by kid
};

std::string encode_usage(const UsageRecord& usage);
Result<UsageRecord> decode_usage(std::string_view text);

}  // namespace signet::ring
