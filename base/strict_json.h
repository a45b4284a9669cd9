// Strict JSON parsing for everything Signet reads from outside: request bodies, the config,
// tokens and key sets. Beyond RFC 8259 it refuses duplicate member names (a parser
// differential waiting to happen, RFC 8725 §3.10) and nesting deeper than a cap; nlohmann's
// lexer already refuses invalid UTF-8 and lone surrogates.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace signet {

struct JsonError {
  std::string message;  // names the problem, never echoes the input
};

// Parses text into an ordered_json (member order kept, as written) or answers why not.
std::optional<nlohmann::ordered_json> parse_strict_json(std::string_view text, int max_depth,
                                                        JsonError* error);

}  // namespace signet
