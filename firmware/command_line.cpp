#include "firmware/command_line.h"

#include <string_view>

namespace signet {

const char* signetd_help() {
  return "usage: signetd [--config FILE] [--check]\n"
         "  --config FILE  the configuration (default " SIGNET_DEFAULT_CONFIG ")\n"
         "  --check        validate the configuration, open the token, print a summary, exit\n"
         "  --version      print the version and the git revision\n"
         "  --help         print this help\n"
         "Signals: SIGTERM/SIGINT stop after in-flight requests; SIGHUP reloads clients and TLS.\n"
         "Exit codes: 0 ok, 1 failure, 2 usage or invalid config, 3 HSM, 4 TLS. See signetd(8).\n";
}

Result<CommandLine> parse_command_line(int argc, const char* const* argv) {
  CommandLine line;
  line.config_path = SIGNET_DEFAULT_CONFIG;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      line.action = CommandLine::Action::kHelp;
      return line;
    }
    if (arg == "--version") {
      line.action = CommandLine::Action::kVersion;
      return line;
    }
    if (arg == "--check") {
      check = true;
    } else if (arg == "--config") {
      // A following option is a forgotten value, not a file named "--check".
      if (i + 1 >= argc || std::string_view(argv[i + 1]).rfind("--", 0) == 0 || *argv[i + 1] == '\0') {
        return make_error(Code::kInvalidArgument, "option '--config' needs a value (a file)");
      }
      line.config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0 && arg.size() > 9) {
      line.config_path = std::string(arg.substr(9));
    } else if (arg.rfind("-", 0) == 0) {
      return make_error(Code::kInvalidArgument, "unknown option '" + std::string(arg) + "'");
    } else {
      return make_error(Code::kInvalidArgument, "unexpected argument '" + std::string(arg) + "'");
    }
  }
  if (check) line.action = CommandLine::Action::kCheck;
  return line;
}

}  // namespace signet
