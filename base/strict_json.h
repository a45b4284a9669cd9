// Strict JSON parsing for everything Signet reads from outside: request bodies, the config,
// tokens and key sets. Beyond RFC 8259 it refuses duplicate member names (a parser
// differential waiting to happen, RFC 8725 §3.10), nesting deeper than a cap (checked while
// parsing, so a 10,000-deep input costs nothing), a byte order mark (RFC 8259 §8.1) and
// trailing content; nlohmann's lexer refuses invalid UTF-8 and lone surrogates.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace signet {

struct JsonError {
  std::string message;  // names the problem, never echoes the input
};

// The document with its member order kept (ordered_json), or why not.
std::optional<nlohmann::ordered_json> parse_strict_json(std::string_view text, std::size_t max_depth,
                                                        JsonError* error);
// The same into a plain nlohmann::json (members sorted by name), for the verifier.
std::optional<nlohmann::json> parse_strict_json_sorted(std::string_view text, std::size_t max_depth,
                                                       JsonError* error = nullptr);

}  // namespace signet
