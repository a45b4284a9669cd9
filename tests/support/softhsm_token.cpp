#include "tests/support/softhsm_token.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

extern char** environ;

namespace signet::testing {

#ifndef SIGNET_SOFTHSM_MODULE
#define SIGNET_SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#endif

const char* softhsm_module_path() { return SIGNET_SOFTHSM_MODULE; }

int run_program(const std::vector<std::string>& argv, std::string* output) {
  char log_template[] = "/tmp/signet-run-XXXXXX";
  int log_fd = ::mkstemp(log_template);
  if (log_fd < 0) return -1;
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(log_fd);
  int status = -1;
  if (rc == 0) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (output != nullptr) {
    std::ifstream in(log_template);
    std::stringstream text;
    text << in.rdbuf();
    *output = text.str();
  }
  ::unlink(log_template);
  if (rc != 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

SoftHsmToken::SoftHsmToken(Config config, std::string dir, std::string conf_path, bool had_conf,
                           std::string previous_conf)
    : config_(std::move(config)),
      dir_(std::move(dir)),
      conf_path_(std::move(conf_path)),
      had_conf_(had_conf),
      previous_conf_(std::move(previous_conf)) {}

SoftHsmToken::SoftHsmToken(SoftHsmToken&& other) noexcept
    : config_(std::move(other.config_)),
      dir_(std::exchange(other.dir_, std::string())),
      conf_path_(std::move(other.conf_path_)),
      had_conf_(other.had_conf_),
      previous_conf_(std::move(other.previous_conf_)) {}

SoftHsmToken::~SoftHsmToken() {
  if (dir_.empty()) return;  // moved from
  if (had_conf_) {
    ::setenv("SOFTHSM2_CONF", previous_conf_.c_str(), 1);
  } else {
    ::unsetenv("SOFTHSM2_CONF");
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Result<SoftHsmToken> SoftHsmToken::create(Config config) {
  std::string base = std::filesystem::temp_directory_path().string() + "/signet-softhsm-XXXXXX";
  if (::mkdtemp(base.data()) == nullptr) {
    return make_error(Code::kInternal, "mkdtemp failed for " + base);
  }
  std::string dir = base;
  std::string tokens = dir + "/tokens";
  std::string conf_path = dir + "/softhsm2.conf";
  std::error_code ec;
  std::filesystem::create_directory(tokens, ec);
  {
    std::ofstream conf(conf_path);
    conf << "directories.tokendir = " << tokens << "\n"
         << "objectstore.backend = file\n"
         << "log.level = ERROR\n"
         << "slots.removable = false\n";
    if (!conf) return make_error(Code::kInternal, "cannot write " + conf_path);
  }
  const char* previous = std::getenv("SOFTHSM2_CONF");
  SoftHsmToken token(std::move(config), dir, conf_path, previous != nullptr,
                     previous != nullptr ? previous : "");
  ::setenv("SOFTHSM2_CONF", conf_path.c_str(), 1);
  if (Status made = token.init_token(token.label(), token.user_pin()); !made.ok()) {
    return made.error();
  }
  return token;
}

Status SoftHsmToken::add_token(const std::string& label, const std::string& user_pin) const {
  return init_token(label, user_pin);
}

Status SoftHsmToken::init_token(const std::string& label, const std::string& user_pin) const {
  std::string output;
  int status = run_program({"softhsm2-util", "--init-token", "--free", "--label", label, "--pin",
                            user_pin, "--so-pin", config_.so_pin},
                           &output);
  if (status != 0) {
    return make_error(Code::kInternal, "softhsm2-util --init-token failed (status " +
                                           std::to_string(status) + "): " + output);
  }
  return ok_status();
}

}  // namespace signet::testing
