#include "hsm/token_selector.h"

namespace signet::hsm {
namespace {

// A fixed-size PKCS#11 text field equals `text` padded with spaces to its size.
bool padded_equals(std::string_view field, std::string_view text) {
  if (text.size() > field.size()) return false;
  if (field.substr(0, text.size()) != text) return false;
  return field.find_first_not_of(' ', text.size()) == std::string_view::npos;
}

}  // namespace

std::string TokenSelector::describe() const {
  std::string text;
  if (!label.empty()) text = "labelled '" + label + "'";
  if (!serial.empty()) text += (text.empty() ? "" : " ") + std::string("with serial '") + serial + "'";
  if (slot_id) text += (text.empty() ? "" : " ") + std::string("in slot ") + std::to_string(*slot_id);
  return text.empty() ? "of any kind" : text;
}

bool TokenSelector::matches(std::uint64_t slot, std::string_view padded_label, std::string_view padded_serial) const {
  if (slot_id && *slot_id != slot) return false;
  if (!label.empty() && !padded_equals(padded_label, label)) return false;
  if (!serial.empty() && !padded_equals(padded_serial, serial)) return false;
  return true;
}

}  // namespace signet::hsm
