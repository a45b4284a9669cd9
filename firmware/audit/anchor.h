// The ledger's head kept outside the file: the count of its lines and the SHA-256 of the last,
// stored where whoever can rewrite the file cannot (the token: token_anchor.h), so that a
// ledger cut short, emptied or replaced no longer reaches it. The chain alone cannot show that
// its newest lines are gone.
//
// The rule the writer keeps and the verifier checks: a group of lines is acknowledged (a token
// handed out) only once the lines are flushed AND the head names the last of them. A crash, or
// a head write that fails, between the two may leave lines past the head; never a head past
// the lines. So a ledger may extend past its head, by lines written after it, and may never
// stop short of it, nor differ from it at the head's line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace signet::audit {

struct Head {
  std::uint64_t epoch = 0;  // raised by each `signetctl audit reset-anchor`
  std::uint64_t lines = 0;  // the seq of the last line; 0 for an empty ledger
  std::string sha256;       // hex digest of that line (without its newline); zeros when empty

  // "<epoch, 10 digits> <lines, 20 digits> <sha256>": fixed width, so that byte order is age
  // order (the token keeps the greatest value when a write was cut short).
  std::string encode() const;
  static std::optional<Head> decode(std::string_view text);
  bool operator==(const Head&) const = default;
};

class Anchor {
 public:
  virtual ~Anchor() = default;
  // The head last written; nullopt when none ever was. Errors: the store cannot be read.
  virtual Result<std::optional<Head>> read() = 0;
  virtual Status write(const Head& head) = 0;
  // Where the head lives, for messages (e.g. the token data object's label).
  virtual std::string where() const = 0;
};

}  // namespace signet::audit
