// application/x-www-form-urlencoded bodies, as OAuth 2.0 endpoints receive them (RFC 6749
// §3.2, §2.3.1). Pure functions: no I/O, nothing logged.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace signet::oauth {

// One name or value decoded ('+' is a space, %XX a byte); nullopt for a broken escape.
std::optional<std::string> form_decode(std::string_view text);

// The form's parameters; nullopt when an escape is broken or a parameter is repeated, which
// RFC 6749 §3.2 forbids ("Request and response parameters MUST NOT be included more than once").
std::optional<std::map<std::string, std::string>> parse_form(std::string_view body);

}  // namespace signet::oauth
