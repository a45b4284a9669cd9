#include "config/pkcs11_uri.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace signet::config {
namespace {

Error bad(std::string message) { return make_error(Code::kConfig, std::move(message)); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 7512 §2.3: unreserved characters, the few reserved ones a value may hold as they are,
// and percent escapes. ';', '?' and '&' separate attributes, so they must be escaped.
bool allowed_raw(char c, bool in_query) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  if (std::strchr("-._~:[]@!$'()*+,=", c)) return true;
  return in_query ? c == '/' || c == '?' || c == '|' : c == '&';
}

Result<std::string> decode(std::string_view value, bool in_query, std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%') {
      const int hi = i + 2 < value.size() ? hex_value(value[i + 1]) : -1;
      const int lo = i + 2 < value.size() ? hex_value(value[i + 2]) : -1;
      if (hi < 0 || lo < 0) return bad("attribute \"" + std::string(name) + "\" has a broken percent escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (allowed_raw(value[i], in_query)) {
      out.push_back(value[i]);
    } else {
      return bad("attribute \"" + std::string(name) + "\" holds a character that must be percent-encoded");
    }
  }
  return out;
}

Status split(std::string_view part, char separator, bool in_query,
             std::vector<std::pair<std::string, std::string>>& into) {
  if (part.empty()) return ok_status();
  std::size_t start = 0;
  while (true) {
    const std::size_t end = std::min(part.find(separator, start), part.size());
    const std::string_view attribute = part.substr(start, end - start);
    const std::size_t eq = attribute.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return bad("\"" + std::string(attribute.substr(0, 40)) + "\" is not an attribute of the form name=value");
    }
    const std::string name(attribute.substr(0, eq));
    auto value = decode(attribute.substr(eq + 1), in_query, name);
    if (!value.ok()) return value.error();
    if (std::any_of(into.begin(), into.end(), [&](const auto& a) { return a.first == name; })) {
      return bad("attribute \"" + name + "\" appears twice");
    }
    into.emplace_back(name, std::move(*value));
    if (end == part.size()) return ok_status();
    start = end + 1;
  }
}

}  // namespace

Result<Pkcs11Uri> parse_pkcs11_uri(std::string_view text) {
  constexpr std::string_view kScheme = "pkcs11:";
  if (text.size() < kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), text.begin(), [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    return bad("must be a PKCS#11 URI (RFC 7512), starting with \"pkcs11:\"");
  }
  text.remove_prefix(kScheme.size());
  const std::size_t question = text.find('?');
  Pkcs11Uri uri;
  if (Status path = split(text.substr(0, question), ';', false, uri.path); !path.ok()) return path.error();
  if (question != std::string_view::npos) {
    if (Status query = split(text.substr(question + 1), '&', true, uri.query); !query.ok()) return query.error();
  }
  return uri;
}

Result<TokenSelection> token_selection(const Pkcs11Uri& uri) {
  TokenSelection selection;
  for (const auto& [name, value] : uri.query) {
    if (name == "pin-value" || name == "pin-source") {
      return bad("must not carry " + name + ": the PIN comes from hsm.pin_file, hsm.pin_env or hsm.pin_credential");
    }
    if (name != "module-path") {
      return bad("attribute \"" + name + "\" is not supported; the query may name module-path only");
    }
    if (value.empty() || value.front() != '/') return bad("module-path must be an absolute path");
    selection.module_path = value;
  }
  for (const auto& [name, value] : uri.path) {
    if (name == "object" || name == "type" || name == "id") {
      return bad("attribute \"" + name + "\" names an object; this URI names a token (token, serial, slot-id)");
    }
    if (name == "token") {
      if (value.empty() || value.size() > 32) return bad("token must be a label of 1 to 32 bytes");
      selection.label = value;
    } else if (name == "serial") {
      if (value.empty() || value.size() > 16) return bad("serial must be 1 to 16 characters");
      selection.serial = value;
    } else if (name == "slot-id") {
      if (value.empty() || value.size() > 19 || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return bad("slot-id must be a decimal number");
      }
      selection.slot_id = std::stoull(value);
    } else {
      return bad("attribute \"" + name + "\" is not supported; a token is selected by token, serial or slot-id");
    }
  }
  if (selection.label.empty() && selection.serial.empty() && !selection.slot_id) {
    return bad("must select a token with token, serial or slot-id");
  }
  return selection;
}

}  // namespace signet::config
