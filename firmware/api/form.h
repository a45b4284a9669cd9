// application/x-www-form-urlencoded, as OAuth 2.0 uses it (RFC 6749 §2.3.1 and appendix B).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace signet::api {

// One name or value decoded ('+' is a space, %XX a byte); nullopt for a malformed escape.
std::optional<std::string> form_decode(std::string_view text);

// The form's parameters; nullopt when malformed or when one is repeated (RFC 6749 §3.2).
std::optional<std::map<std::string, std::string>> parse_form(std::string_view body);

}  // namespace signet::api
