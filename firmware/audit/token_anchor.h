// The ledger's head (anchor.h) as a private data object in the HSM token, labelled
// "signet:audit:head", or "signet:audit:head:<audit.name>" when replicas on one token each keep
// a ledger. Only a process logged in to the token can read or move it.
#pragma once

#include <string>

#include "firmware/audit/anchor.h"
#include "hsm/hsm.h"

namespace signet::audit {

class TokenAnchor final : public Anchor {
 public:
  // hsm must outlive the anchor; name: config.audit_name (may be empty).
  TokenAnchor(hsm::Hsm& hsm, const std::string& name);

  Result<std::optional<Head>> read() override;
  Status write(const Head& head) override;
  std::string where() const override { return "the token's data object " + label_; }

 private:
  hsm::Hsm& hsm_;
  std::string label_;
};

}  // namespace signet::audit
