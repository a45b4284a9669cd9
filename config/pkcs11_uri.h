// PKCS#11 URIs (RFC 7512) as the configuration names a token with them (`hsm.uri`, and
// signetctl's --uri): "pkcs11:token=signet;serial=...?module-path=/usr/lib/...". Pure
// functions; errors are kConfig sentences that say which attribute and why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace signet::config {

// A URI's attributes in order, values percent-decoded: the path ("name=value" separated by
// ';') and the query ("name=value" separated by '&').
struct Pkcs11Uri {
  std::vector<std::pair<std::string, std::string>> path;
  std::vector<std::pair<std::string, std::string>> query;
};

// Refuses what RFC 7512 does not allow: another scheme, an attribute without '=', an attribute
// repeated, a broken percent escape, a character outside the grammar.
Result<Pkcs11Uri> parse_pkcs11_uri(std::string_view text);

// Which token a URI selects, and with which module: what Signet can honour. At least one of
// token, serial and slot-id. Refused with a reason: pin-value and pin-source (the PIN never
// comes from the configuration), object, type and id (they name an object, not a token), and
// every other attribute (manufacturer, model, module-name, ...), which Signet does not match on.
struct TokenSelection {
  std::string label;                 // token=, at most 32 bytes
  std::string serial;                // serial=, at most 16 bytes
  std::optional<std::uint64_t> slot_id;  // slot-id=, decimal
  std::string module_path;           // module-path=, an absolute path
};
Result<TokenSelection> token_selection(const Pkcs11Uri& uri);

}  // namespace signet::config
