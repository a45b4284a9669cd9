#include "tools/signetctl/audit_verify.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "firmware/audit/ledger.h"

namespace signet::ctl {

int audit_verify_command(const std::string& path, bool json, const AnchoredHead& anchored) {
  return audit_verify_command(path, json, anchored, std::cout, std::cerr);
}

int audit_verify_command(const std::string& path, bool json, const AnchoredHead& anchored, std::ostream& out,
                         std::ostream& err) {
  auto report = anchored.head ? audit::Ledger::verify_file(path, *anchored.head) : audit::Ledger::verify_file(path);
  // Asked for the head, and the token has none: nothing shows that the ledger is whole.
  const bool no_head = anchored.asked && !anchored.head;
  const std::string no_head_reason = anchored.where + " holds no ledger head, so nothing shows that the ledger is "
                                     "whole (signetd anchors one when it starts with audit.file set)";
  if (json) {
    // One shape for every answer, so that scripts read the same fields.
    nlohmann::ordered_json answer;
    answer["ok"] = report.ok() && report->ok && !no_head;
    answer["records"] = report.ok() ? report->records : 0;
    answer["broken_line"] = nullptr;
    answer["reason"] = nullptr;
    answer["head_checked"] = report.ok() && report->head_checked;
    answer["head_line"] = nullptr;
    answer["lines_past_head"] = nullptr;
    if (!report.ok()) {
      answer["reason"] = report.error().message;
    } else if (!report->ok) {
      answer["broken_line"] = report->broken_line;
      answer["reason"] = report->reason;
    } else if (no_head) {
      answer["reason"] = no_head_reason;
    }
    if (report.ok() && report->head_checked) {
      answer["head_line"] = report->head_line;
      if (report->ok) answer["lines_past_head"] = report->past_head;
    }
    out << answer.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    return answer["ok"].get<bool>() ? 0 : 1;
  }
  if (!report.ok()) {
    err << "signetctl: " << report.error().message << "\n";
    return 1;
  }
  if (!report->ok) {
    err << "signetctl: audit ledger broken at line " << report->broken_line << ": " << report->reason << "\n";
    return 1;
  }
  if (no_head) {
    err << "signetctl: " << no_head_reason << "\n";
    return 1;
  }
  out << "ok: " << report->records << " records, chain intact";
  if (!report->head_checked) {
    out << "; the head was not checked (--config CONFIG checks it against the token)\n";
    return 0;
  }
  out << ", reaching the head anchored in " << anchored.where << " (line " << report->head_line << ")";
  if (report->past_head) out << "; " << report->past_head << " line(s) past it, written after its last update";
  out << "\n";
  return 0;
}

}  // namespace signet::ctl
