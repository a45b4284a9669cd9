#include "firmware/audit/token_anchor.h"

namespace signet::audit {

TokenAnchor::TokenAnchor(hsm::Hsm& hsm, const std::string& name)
    : hsm_(hsm), label_(name.empty() ? "signet:audit:head" : "signet:audit:head:" + name) {}

Result<std::optional<Head>> TokenAnchor::read() {
  auto value = hsm_.read_data(label_);
  if (!value.ok() && value.error().code == Code::kNotFound) return std::optional<Head>();
  if (!value.ok()) return value.error();
  auto head = Head::decode(*value);
  if (!head) return make_error(Code::kInternal, where() + " does not hold a ledger head");
  return std::optional<Head>(std::move(*head));
}

Status TokenAnchor::write(const Head& head) { return hsm_.write_data(label_, head.encode()); }

}  // namespace signet::audit
