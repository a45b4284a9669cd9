#include "firmware/audit/anchor.h"

#include <charconv>
#include <cstdio>

#include "base/hex.h"
#include "firmware/audit/line.h"

namespace signet::audit {

std::string Head::encode() const {
  char text[40];
  std::snprintf(text, sizeof text, "%010llu %020llu ", static_cast<unsigned long long>(epoch),
                static_cast<unsigned long long>(lines));
  return text + sha256;
}

std::optional<Head> Head::decode(std::string_view text) {
  constexpr std::size_t kSize = 10 + 1 + 20 + 1 + kChainStart.size();
  if (text.size() != kSize || text[10] != ' ' || text[31] != ' ') return std::nullopt;
  Head head;
  const auto number = [](std::string_view digits, std::uint64_t& out) {
    if (digits.find_first_not_of("0123456789") != std::string_view::npos) return false;
    return std::from_chars(digits.data(), digits.data() + digits.size(), out).ec == std::errc();
  };
  if (!number(text.substr(0, 10), head.epoch) || !number(text.substr(11, 20), head.lines)) return std::nullopt;
  head.sha256 = std::string(text.substr(32));
  if (!hex::is_lowercase(head.sha256)) return std::nullopt;
  return head;
}

}  // namespace signet::audit
