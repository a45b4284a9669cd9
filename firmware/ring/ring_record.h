// The ring record: which of the token's key pairs Signet publishes and which one signs.
// It lives in the token itself as a data object (label "signet:ring"), beside the immutable
// keys, so that a restart, or a second signetd on the same token, reads the same ring.
// Encoding and decoding are pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace signet::ring {

inline constexpr std::string_view kRecordLabel = "signet:ring";

enum class KeyState { kNext, kActive, kRetiring };

std::string_view state_name(KeyState state);

struct RecordEntry {
  std::string id_hex;  // the token's CKA_ID of the pair, lowercase hex
  std::string kid;     // RFC 7638 thumbprint of the public half
  std::string alg;     // JWS alg the key is bound to
  KeyState state = KeyState::kNext;
  std::int64_t created_at = 0;    // Unix seconds
  std::int64_t activated_at = 0;  // 0 until it signs
};

struct RingRecord {
  std::uint64_t serial = 0;  // increases with every write
  std::vector<RecordEntry> keys;
};

std::string encode_record(const RingRecord& record);
Result<RingRecord> decode_record(std::string_view text);

}  // namespace signet::ring
