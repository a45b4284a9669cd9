// RFC 3339 timestamps in UTC with milliseconds ("2026-05-01T12:00:00.123Z"): the one format of
// time that Signet writes for people and log processors, in the log and in the audit ledger.
#pragma once

#include <chrono>
#include <string>

namespace signet {

std::string rfc3339_millis(std::chrono::system_clock::time_point time);

}  // namespace signet
