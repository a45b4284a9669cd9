// signetd's command line: --config FILE (default SIGNET_DEFAULT_CONFIG, /etc/signet/signet.json
// when installed), --check, --help, --version. An unknown option or a missing value is a usage
// error whose message names the option (exit 2, docs/API.md).
#pragma once

#include <string>

#include "base/result.h"

namespace signet {

struct CommandLine {
  enum class Action { kServe, kCheck, kHelp, kVersion };
  Action action = Action::kServe;
  std::string config_path;
};

Result<CommandLine> parse_command_line(int argc, const char* const* argv);

// The --help text, ending in a newline.
const char* signetd_help();

}  // namespace signet
