#include "firmware/audit/token_anchor.h"

#include "base/log.h"

namespace signet::audit {

TokenAnchor::TokenAnchor(hsm::Hsm& hsm, const std::string& name)
    : hsm_(hsm), name_(name.empty() ? "signet:audit:head" : "signet:audit:head:" + name) {}

Result<std::optional<Head>> TokenAnchor::read() {
  auto slots = hsm_.read_label_slots(name_);
  if (!slots.ok()) return slots.error();
  auto value = hsm_.read_data(name_);  // where a token that refuses label updates keeps it
  if (!value.ok() && value.error().code != Code::kNotFound) return value.error();
  if (value.ok()) slots->push_back(std::move(*value));
  std::optional<Head> newest;
  for (const std::string& text : *slots) {
    // A slot that does not decode is one whose write a crash tore: the other holds the head.
    auto head = Head::decode(text);
    if (head && (!newest || head->encode() > newest->encode())) newest = std::move(head);
  }
  if (!newest && !slots->empty()) return make_error(Code::kInternal, where() + " does not hold a ledger head");
  std::lock_guard lock(mu_);
  newest_ = newest ? newest->encode() : std::string();
  return newest;
}

Status TokenAnchor::write(const Head& head) {
  const std::string value = head.encode();
  std::lock_guard lock(mu_);  // one write at a time: each keeps the head the last one wrote
  if (!labels_refused_) {
    Status written = hsm_.write_label_slot(name_, newest_, value);
    if (written.ok()) newest_ = value;
    if (written.ok() || written.error().code != Code::kPermissionDenied) return written;
    labels_refused_ = true;
    log::warn("audit_anchor_in_data_object", {{"where", where()}, {"reason", written.error().message}});
  }
  Status written = hsm_.write_data(name_, value);
  if (written.ok()) newest_ = value;
  return written;
}

}  // namespace signet::audit
