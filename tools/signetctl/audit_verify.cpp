#include "tools/signetctl/audit_verify.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "firmware/audit/ledger.h"

namespace signet::ctl {

int audit_verify_command(const std::string& path, bool json) {
  return audit_verify_command(path, json, std::cout, std::cerr);
}

int audit_verify_command(const std::string& path, bool json, std::ostream& out,
                         std::ostream& err) {
  const auto report = audit::Ledger::verify_file(path);
  if (json) {
    // One shape for every answer, so that scripts read the same four fields.
    nlohmann::ordered_json answer;
    answer["ok"] = report.ok() && report->ok;
    answer["records"] = report.ok() ? report->records : 0;
    answer["broken_line"] = nullptr;
    answer["reason"] = nullptr;
    if (!report.ok()) {
      answer["reason"] = report.error().message;
    } else if (!report->ok) {
      answer["broken_line"] = report->broken_line;
      answer["reason"] = report->reason;
    }
    out << answer.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    return answer["ok"].get<bool>() ? 0 : 1;
  }
  if (!report.ok()) {
    err << "signetctl: " << report.error().message << "\n";
    return 1;
  }
  if (!report->ok) {
    err << "signetctl: audit ledger broken at line " << report->broken_line << ": "
        << report->reason << "\n";
    return 1;
  }
  out << "ok: " << report->records << " records, chain intact\n";
  return 0;
}

}  // namespace signet::ctl
