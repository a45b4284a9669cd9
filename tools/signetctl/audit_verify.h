// `signetctl audit verify FILE`: checks the audit ledger's hash chain. Exit 0 and
// "ok: N records, chain intact" when every line chains to the one before; exit 1 and one
// "signetctl: ..." line on stderr naming the first broken line otherwise.
#pragma once

#include <ostream>
#include <string>

namespace signet::ctl {

int audit_verify_command(const std::string& path, bool json);

// The same, writing to the given streams (for tests).
int audit_verify_command(const std::string& path, bool json, std::ostream& out,
                         std::ostream& err);

}  // namespace signet::ctl
