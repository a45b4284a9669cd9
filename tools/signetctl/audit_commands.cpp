// `signetctl audit verify FILE [--config CONFIG]` and `signetctl audit reset-anchor --config
// CONFIG [FILE]`: the second form of each opens the token the config names (its hsm section
// and PIN), where the ledger's head is kept (firmware/audit/token_anchor.h).
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/exit_code.h"
#include "config/config.h"
#include "firmware/audit/ledger.h"
#include "firmware/audit/token_anchor.h"
#include "hsm/hsm.h"
#include "tools/signetctl/audit_verify.h"
#include "tools/signetctl/cli.h"

namespace signet::ctl {
namespace {

int fail_with(const Error& error) {
  std::fprintf(stderr, "signetctl: %s\n", error.message.c_str());
  return exit_code(error.code);
}

Result<std::unique_ptr<hsm::Hsm>> open_token(const config::Config& config) {
  auto pin = hsm::read_pin(config.hsm.pin_file, config.hsm.pin_env);
  if (!pin.ok()) return pin.error();
  hsm::Options options;
  options.module_path = config.hsm.module;
  options.token_label = config.hsm.token_label;
  options.token_serial = config.hsm.token_serial;
  options.slot_id = config.hsm.slot_id;
  options.pin = std::move(*pin);
  options.max_sessions = 2;  // one data object at a time
  return hsm::Hsm::open(std::move(options));
}

// Who reset the anchor, for its ledger line: the local user.
std::string operator_name() {
  const passwd* user = ::getpwuid(::getuid());
  return std::string(user ? user->pw_name : "?") + " (uid " + std::to_string(::getuid()) + ")";
}

int verify(const Args& args) {
  if (args.words.size() != 3) return usage_error("audit verify takes one FILE");
  const std::string config_path = args.option("config");
  if (config_path.empty()) return audit_verify_command(args.words[2], args.json);
  auto config = config::load(config_path);
  if (!config.ok()) return fail_with(config.error());
  auto token = open_token(*config);
  if (!token.ok()) return fail_with(token.error());
  audit::TokenAnchor anchor(**token, config->audit_name);
  auto head = anchor.read();
  if (!head.ok()) return fail_with(head.error());
  return audit_verify_command(args.words[2], args.json, AnchoredHead{true, std::move(*head), anchor.where()});
}

int reset_anchor(const Args& args) {
  if (args.words.size() > 3) return usage_error("audit reset-anchor takes at most one FILE");
  const std::string config_path = args.option("config");
  if (config_path.empty()) return usage_error("audit reset-anchor needs --config CONFIG (the token to anchor in)");
  auto config = config::load(config_path);
  if (!config.ok()) return fail_with(config.error());
  const std::string path = args.words.size() == 3 ? args.words[2] : config->audit_file;
  if (path.empty()) return usage_error("the config names no audit.file; pass the FILE");
  auto token = open_token(*config);
  if (!token.ok()) return fail_with(token.error());
  audit::TokenAnchor anchor(**token, config->audit_name);
  auto head = audit::Ledger::reset_anchor(path, anchor, operator_name());
  if (!head.ok()) return fail_with(head.error());
  if (args.json) {
    std::printf("%s\n", nlohmann::json{{"ok", true}, {"head_line", head->lines}, {"epoch", head->epoch}}.dump().c_str());
  } else {
    std::printf("ok: %s now anchors line %llu (the anchor_reset line, epoch %llu)\n", anchor.where().c_str(),
                static_cast<unsigned long long>(head->lines), static_cast<unsigned long long>(head->epoch));
  }
  return 0;
}

}  // namespace

int audit(const Args& args) {
  if (args.words.size() >= 2 && args.words[1] == "verify") return verify(args);
  if (args.words.size() >= 2 && args.words[1] == "reset-anchor") return reset_anchor(args);
  return usage_error("audit takes verify or reset-anchor");
}

}  // namespace signet::ctl
