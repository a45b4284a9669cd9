// The verifier's JSON: Signet's strict parser (base/strict_json.h: duplicates, depth, byte
// order mark and UTF-8 refused) with the verifier's depth cap.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "base/strict_json.h"

namespace signet::verify::internal {

inline constexpr std::size_t kMaxJsonDepth = 32;

// std::nullopt when the text is not strict JSON within the depth cap.
inline std::optional<nlohmann::json> parse_strict_json(std::string_view text, std::size_t max_depth = kMaxJsonDepth) {
  return parse_strict_json_sorted(text, max_depth);
}

}  // namespace signet::verify::internal
