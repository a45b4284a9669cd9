// init: first boot on an initialised token. Checks everything it can before touching anything
// (the plan, the PIN file, an existing config), then makes the TLS key in the token, the
// certificate and the CSR signed by it, and the admin API key, and writes the config last: a
// config on disk means a finished provisioning. A failure after the key was made destroys it,
// so a refused or failed init leaves the token and DIR as they were.
#include <fcntl.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/exit_code.h"
#include "base/hex.h"
#include "config/config.h"
#include "hsm/tls_key.h"
#include "tools/signetctl/cli.h"
#include "tools/signetctl/init_plan.h"

namespace signet::ctl {
namespace {

int fail_with(const Error& error) {
  std::fprintf(stderr, "signetctl: %s\n", error.message.c_str());
  return exit_code(error.code);
}

// A new API key (32 random bytes in hex, nothing a shell could misread) and its SHA-256 in hex.
Result<std::pair<SecretString, std::string>> new_api_key() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return make_error(Code::kInternal, "the random generator failed");
  SecretString key(hex::encode(raw, sizeof raw));
  OPENSSL_cleanse(raw, sizeof raw);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.view().data()), key.view().size(), digest);
  return std::make_pair(std::move(key), hex::encode(digest, sizeof digest));
}

// Writes `text` to path through a temporary file renamed over it: a reader sees the old file or
// the new one, never half of one. `group` (-1: unchanged) lets the service's group read it.
Status write_file(const std::string& path, const std::string& text, mode_t mode, gid_t group) {
  const std::string temporary = path + ".new";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return make_error(Code::kInternal, "cannot write '" + temporary + "': " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0 && (group == static_cast<gid_t>(-1) || ::fchown(fd, -1, group) == 0) &&
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int saved = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(ok ? errno : saved);
    ::unlink(temporary.c_str());
    return make_error(Code::kInternal, "cannot write '" + path + "': " + why);
  }
  return ok_status();
}

// mkdir with exactly `mode`, whatever the umask (a first-boot script may run under 077, and the
// service's user must still reach the certificate). An existing folder is left as it is.
bool make_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0) return errno == EEXIST;
  return ::chmod(path.c_str(), mode) == 0;
}

// DIR itself may be created (mode 0750); its parent must exist. DIR/tls is made 0755: it holds
// only the certificate and the CSR. Answers DIR's group, which the config file takes so that the
// service's user (group signet on the appliance) can read it.
Result<gid_t> prepare_dir(const InitPlan& plan) {
  struct stat st {};
  if (!make_dir(plan.config_dir, 0750) || ::stat(plan.config_dir.c_str(), &st) != 0) {
    return make_error(Code::kInvalidArgument, "option '--config-dir': cannot create '" + plan.config_dir +
                                                  "': " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return make_error(Code::kInvalidArgument, "option '--config-dir': '" + plan.config_dir + "' is not a folder");
  }
  const std::string tls = plan.config_dir + "/tls";
  if (!make_dir(tls, 0755)) return make_error(Code::kInternal, "cannot create '" + tls + "': " + std::strerror(errno));
  return st.st_gid;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

struct Provisioned {
  std::string key_uri;
  TlsRequestFiles tls;
};

// The steps that need the token: the key, then what it signs. The key is destroyed again when a
// later step fails.
Result<Provisioned> provision(const InitPlan& plan, hsm::TlsKeyStore& store, const std::string& admin_hash,
                              gid_t group) {
  auto key = store.generate();
  if (!key.ok()) return key.error();
  Provisioned done;
  done.key_uri = tls_key_uri(plan, key->id, key->label);
  auto result = [&]() -> Status {
    auto tls = make_certificate_and_request({plan.module, done.key_uri, key->ec_x, key->ec_y}, plan.subject);
    if (!tls.ok()) return tls.error();
    done.tls = std::move(*tls);
    // The document signetd will load, checked by signetd's own validator before it is written.
    const std::string checked = render_config(plan, done.key_uri, admin_hash, false);
    if (auto valid = config::parse(checked, plan.config_file); !valid.ok()) {
      return make_error(Code::kInternal, "the config made is refused: " + valid.error().message);
    }
    for (const auto& [name, text] : {std::pair{"server.crt", &done.tls.certificate_pem},
                                     std::pair{"server.csr", &done.tls.request_pem}}) {
      if (Status written = write_file(plan.config_dir + "/tls/" + name, *text, 0644, -1); !written.ok()) return written;
    }
    return write_file(plan.config_file, render_config(plan, done.key_uri, admin_hash), 0640, group);
  }();
  if (!result.ok()) {
    (void)store.destroy(key->id);  // the first error is the one to report
    return result.error();
  }
  return done;
}

void report(const Args& args, const InitPlan& plan, const Provisioned& done, const SecretString& admin_key) {
  const std::string cert = plan.config_dir + "/tls/server.crt", csr = plan.config_dir + "/tls/server.csr";
  if (args.json) {
    nlohmann::ordered_json out{{"config", plan.config_file},       {"key_uri", done.key_uri},
                               {"certificate", cert},              {"certificate_sha256", done.tls.sha256_fingerprint},
                               {"csr", csr},                       {"admin_client", "admin"},
                               {"admin_api_key", admin_key.view()}};
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("signetctl: provisioned %s\n"
              "  TLS key:      %s (in the token; never on disk)\n"
              "  certificate:  %s (self-signed, SHA-256 %s)\n"
              "  CSR:          %s (for your CA; put its answer in tls.cert_file, then SIGHUP)\n"
              "  issuer:       %s, listening on %s:%u, signing with %s\n"
              "  Admin client 'admin' API key (shown once, stored only as its SHA-256):\n"
              "    %.*s\n"
              "  Serve: signetd --config %s (or systemctl start signetd)\n",
              plan.config_file.c_str(), done.key_uri.c_str(), cert.c_str(), done.tls.sha256_fingerprint.c_str(),
              csr.c_str(), plan.issuer.c_str(), plan.listen_address.c_str(), plan.listen_port, plan.algorithm.c_str(),
              static_cast<int>(admin_key.view().size()), admin_key.view().data(), plan.config_file.c_str());
}

}  // namespace

int init(const Args& args) {
  std::error_code ec;
  auto plan = plan_init(args, host_name(), std::filesystem::current_path(ec).string());
  if (!plan.ok()) return usage_error(plan.error().message);
  if (std::filesystem::exists(plan->config_file, ec) && !plan->force) {
    return failure(plan->config_file + " exists already; --force replaces it (the token's keys stay)");
  }
  // The PIN file is checked (a private regular file) before the token sees anything.
  auto pin = hsm::read_pin(plan->pin_file, "");
  if (!pin.ok()) return fail_with(pin.error());
  auto group = prepare_dir(*plan);
  if (!group.ok()) return fail_with(group.error());
  auto admin = new_api_key();
  if (!admin.ok()) return fail_with(admin.error());

  hsm::Options options;
  options.module_path = plan->module;
  options.token_label = plan->token_label;
  options.token_serial = plan->token_serial;
  options.slot_id = plan->slot_id;
  options.pin = std::move(*pin);
  auto store = hsm::TlsKeyStore::open(std::move(options));  // logs in; the PIN is wiped
  if (!store.ok()) return fail_with(store.error());
  auto done = provision(*plan, **store, admin->second, *group);
  if (!done.ok()) return fail_with(done.error());
  report(args, *plan, *done, admin->first);
  return 0;
}

}  // namespace signet::ctl
