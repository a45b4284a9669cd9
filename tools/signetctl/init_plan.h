// What `signetctl init` is asked to do, checked before anything is touched: the options read
// into a plan (bad input is a usage error naming the option, and nothing has changed yet), and
// the configuration the plan yields. Pure: no files, no token, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "tools/signetctl/cli.h"
#include "tools/signetctl/tls_request.h"

namespace signet::ctl {

struct InitPlan {
  std::string config_dir;      // absolute
  std::string config_file;     // config_dir + "/signet.json"
  std::string module;
  std::string token_label;     // empty when --uri selects the token by serial or slot alone
  std::string uri;             // --uri as given (RFC 7512); its selection is in the fields here
  std::string token_serial;
  std::optional<std::uint64_t> slot_id;
  std::string pin_file;        // absolute; read by init, and by signetd unless pin_credential
  std::string pin_credential;  // empty: signetd reads pin_file
  std::string issuer;
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 8443;
  std::string algorithm = "ES256";
  std::string audit_file;      // absolute; empty: no ledger
  bool force = false;
  TlsSubject subject;          // the certificate's and the CSR's names
};

// `host_name` is this machine's name, for the default issuer. Errors: kInvalidArgument, naming
// the option. `working_dir` makes relative paths absolute.
Result<InitPlan> plan_init(const Args& args, const std::string& host_name, const std::string& working_dir);

// The RFC 7512 URI of the private key with this CKA_ID and label in the plan's token.
std::string tls_key_uri(const InitPlan& plan, const std::string& key_id, const std::string& key_label);

// DIR/signet.json's text: the plan's settings, tls.key_uri, one profile ("access", 15 minutes,
// audience "api") and one admin client ("admin") that may also use it, holding only the key's
// SHA-256 (hex).
// `with_credential` false writes hsm.pin_file even when the plan names a credential (for
// checking the document where no $CREDENTIALS_DIRECTORY exists).
std::string render_config(const InitPlan& plan, const std::string& key_uri, const std::string& admin_key_sha256,
                          bool with_credential = true);

}  // namespace signet::ctl
