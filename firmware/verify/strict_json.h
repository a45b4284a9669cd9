// Strict JSON for untrusted token parts and JWKS documents: nesting depth capped (checked while
// parsing, so a 10,000-deep input is refused after 33 levels), duplicate member names refused
// (no last-wins parser differential), invalid UTF-8 and lone surrogates refused, no byte order
// mark, no trailing content.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace signet::verify::internal {

inline constexpr std::size_t kMaxJsonDepth = 32;

// std::nullopt when the text is not strict JSON within the depth cap.
std::optional<nlohmann::json> parse_strict_json(std::string_view text,
                                                std::size_t max_depth = kMaxJsonDepth);

}  // namespace signet::verify::internal
