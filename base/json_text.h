// JSON text written directly, for the small objects of the hot path (a log line, an audit
// ledger line, a token's answer), where building a nlohmann::json tree first costs more than
// the text itself. Output is compact (no spaces), as nlohmann's dump() writes it.
//
// Strings are escaped as RFC 8259 asks ('"', '\\' and the control characters below U+0020),
// and a byte sequence that is not valid UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF) is replaced by U+FFFD, one per invalid byte: a client's odd input
// never makes invalid JSON, and never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace signet::json_text {

// Appends text as a JSON string, quotes included.
void append_string(std::string& out, std::string_view text);

// {"key":value,...} appended to out, members in the order written; close() ends it.
class Object {
 public:
  explicit Object(std::string& out) : out_(out) { out_.push_back('{'); }
  Object& string(std::string_view key, std::string_view value);
  Object& number(std::string_view key, std::int64_t value);
  Object& raw(std::string_view key, std::string_view json);  // a value already JSON text
  void close() { out_.push_back('}'); }

 private:
  void key(std::string_view name);
  std::string& out_;
  bool first_ = true;
};

}  // namespace signet::json_text
