// The `# HELP` line of every family /metrics shows, in one table, so that each renderer keeps
// writing only `# TYPE` and its samples, and the words describing the families are all here.
// It describes the domain's families (keys, tokens, the HSM) as well as the transport's, so it
// belongs to the API, which renders /metrics, not to http/.
#pragma once

#include <string>
#include <string_view>

namespace signet::api {

// The help text of a family, or empty for a family the table does not know.
std::string_view metric_help(std::string_view family);

// Puts `# HELP <family> <text>` before each `# TYPE <family>` line of a Prometheus text
// exposition that has none yet and whose family the table knows.
std::string with_help(std::string_view exposition);

}  // namespace signet::api
