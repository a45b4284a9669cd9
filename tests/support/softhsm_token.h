// A fresh SoftHSM2 token in a private temporary directory, for tests that need a real PKCS#11
// token: it writes its own softhsm2.conf (directories.tokendir inside the directory), points
// SOFTHSM2_CONF at it, runs `softhsm2-util --init-token --free`, and removes the directory and
// restores SOFTHSM2_CONF when it goes away. SoftHSM reads SOFTHSM2_CONF at C_Initialize, so
// create the token before opening the module, and keep one token alive per process at a time.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace signet::testing {

// The SoftHSM2 module the tests load (SIGNET_SOFTHSM_MODULE at build time).
const char* softhsm_module_path();

class SoftHsmToken {
 public:
  struct Config {
    std::string label = "signet-test";
    std::string user_pin = "1234";
    std::string so_pin = "12345678";
  };

  // Errors: kInternal with softhsm2-util's output when the token cannot be made.
  static Result<SoftHsmToken> create(Config config);
  static Result<SoftHsmToken> create() { return create(Config{}); }

  SoftHsmToken(SoftHsmToken&& other) noexcept;
  SoftHsmToken& operator=(SoftHsmToken&&) = delete;
  SoftHsmToken(const SoftHsmToken&) = delete;  // two owners would remove the directory twice
  ~SoftHsmToken();

  // Another token in the same store (SoftHSM shows each in its own slot).
  Status add_token(const std::string& label, const std::string& user_pin) const;

  const std::string& dir() const { return dir_; }
  const std::string& conf_path() const { return conf_path_; }
  const std::string& label() const { return config_.label; }
  const std::string& user_pin() const { return config_.user_pin; }
  const std::string& so_pin() const { return config_.so_pin; }
  const char* module_path() const { return softhsm_module_path(); }

 private:
  SoftHsmToken(Config config, std::string dir, std::string conf_path, bool had_conf,
               std::string previous_conf);
  Status init_token(const std::string& label, const std::string& user_pin) const;

  Config config_;
  std::string dir_;
  std::string conf_path_;
  bool had_conf_ = false;
  std::string previous_conf_;
};

// Runs a program (no shell) with the current environment; answers its exit status and fills
// `output` with what it wrote to stdout and stderr.
int run_program(const std::vector<std::string>& argv, std::string* output);

}  // namespace signet::testing
