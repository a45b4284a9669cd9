// What the writer and the verifier of the audit ledger must agree on: how a line is digested
// and which fields make a line a ledger record. Internal to firmware/audit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace signet::audit {

// The "prev" of the first line of a ledger.
inline constexpr std::string_view kChainStart =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Lowercase hex SHA-256 of bytes.
std::string sha256_hex(std::string_view bytes);

// The chain fields of one line (without its newline), or nothing if the line is not a ledger
// record: not strict JSON, not an object, an unknown event, or a missing seq or prev.
struct ChainFields {
  std::uint64_t seq = 0;
  std::string prev;
};
std::optional<ChainFields> parse_line(std::string_view line);

// strerror for errno values, thread-safe.
std::string errno_text(int error);

}  // namespace signet::audit
