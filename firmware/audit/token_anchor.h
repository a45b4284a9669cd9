// The ledger's head (anchor.h) kept in the HSM token, where only a process logged in to the
// token can read or move it. Its name is "signet:audit:head", or "signet:audit:head:<audit.name>"
// when replicas on one token each keep a ledger.
//
// The head is the label of one of two private data objects whose CKA_APPLICATION is that name
// (Hsm::write_label_slot): each write modifies the older one in place, so that a group commit
// costs the token one attribute update, creates no object, and a write torn by a crash leaves
// the other slot's head (older, so never past the file). A token that will not modify labels
// keeps the head, as the first versions did, in the value of a data object with that label,
// rewritten at each write; both places are read, and the greater head is the head.
#pragma once

#include <atomic>
#include <mutex>
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
  std::string where() const override { return "the token's data object " + name_; }

 private:
  hsm::Hsm& hsm_;
  std::string name_;
  std::mutex mu_;
  std::string newest_;  // the encoded head last read or written: the slot a write keeps
  std::atomic<bool> labels_refused_{false};
};

}  // namespace signet::audit
