// Which token of a module the Hsm uses: the token attributes of an RFC 7512 URI that Signet
// honours (token label, serial number, slot id). Every one that is given must match, and
// exactly one initialized token may match. No CK_* types here: hsm.h's Options carries it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace signet::hsm {

struct TokenSelector {
  explicit TokenSelector(std::string label, std::string serial = {}, std::optional<std::uint64_t> slot_id = {})
      : label(std::move(label)), serial(std::move(serial)), slot_id(slot_id) {}

  std::string label;                     // empty: any label
  std::string serial;                    // empty: any serial number
  std::optional<std::uint64_t> slot_id;  // empty: any slot

  // For messages: "labelled 'signet'", "with serial '1234' in slot 3", ...
  std::string describe() const;
  // Whether the token in `slot` is selected; label and serial are CK_TOKEN_INFO's fixed-size,
  // space-padded fields.
  bool matches(std::uint64_t slot, std::string_view padded_label, std::string_view padded_serial) const;
};

}  // namespace signet::hsm
