// `signetctl audit verify FILE [--config CONFIG]`: checks the audit ledger's hash chain and,
// with the head read from the token (AnchoredHead), that the chain reaches it. Exit 0 and one
// "ok: ..." line on stdout that says whether the head was checked; exit 1 and one
// "signetctl: ..." line on stderr naming the first broken or missing line otherwise.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "firmware/audit/anchor.h"

namespace signet::ctl {

// What --config found in the token: not asked (no --config), no head there, or the head.
struct AnchoredHead {
  bool asked = false;
  std::optional<audit::Head> head;
  std::string where;  // e.g. "the token's data object signet:audit:head"
};

int audit_verify_command(const std::string& path, bool json, const AnchoredHead& anchored = {});

// The same, writing to the given streams (for tests).
int audit_verify_command(const std::string& path, bool json, const AnchoredHead& anchored, std::ostream& out,
                         std::ostream& err);

}  // namespace signet::ctl
