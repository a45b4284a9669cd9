// signetd: the composition root. The one place where the config becomes objects and the
// objects are wired together, and where an Error becomes an exit code (docs/API.md):
// 0 ok, 2 usage or invalid config, 3 HSM unavailable, 4 TLS material unusable, 1 otherwise.
#include <openssl/rand.h>
#include <signal.h>
#include <sys/prctl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "base/log.h"
#include "config/config.h"
#include "firmware/audit/ledger.h"
#include "firmware/limits/rate_limiter.h"
#include "firmware/auth/clients.h"
#include "firmware/issuance/issuer.h"
#include "firmware/ring/key_ring.h"
#include "firmware/ring/rotation_job.h"
#include "hsm/hsm.h"
#include "http/api.h"
#include "http/hsm_tls_key.h"
#include "http/server.h"

namespace signet {
namespace {

constexpr const char* kUsage = "usage: signetd --config FILE [--check]";

int exit_code(Code code) {
  switch (code) {
    case Code::kConfig:
    case Code::kInvalidArgument:
      return 2;
    case Code::kHsmModule:
    case Code::kHsmTokenNotFound:
    case Code::kHsmPin:
    case Code::kHsmUnavailable:
      return 3;
    case Code::kTls:
      return 4;
    default:
      return 1;
  }
}

int fail(const Error& error) {
  std::fprintf(stderr, "signetd: %s\n", error.message.c_str());
  return exit_code(error.code);
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Result<std::string> read_file(const std::string& path, const std::string& field, Code code) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(code, field + " '" + path + "' cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<std::unique_ptr<hsm::Hsm>> open_hsm(const config::Config& config) {
  auto pin = hsm::read_pin(config.hsm.pin_file, config.hsm.pin_env);
  if (!pin.ok()) return pin.error();
  hsm::Options options;
  options.module_path = config.hsm.module;
  options.token_label = config.hsm.token_label;
  options.pin = std::move(*pin);
  return hsm::Hsm::open(std::move(options));
}

Result<http::ServerOptions> server_options(const config::Config& config) {
  auto cert = read_file(config.tls.cert_file, "tls.cert_file", Code::kTls);
  if (!cert.ok()) return cert.error();
  http::ServerOptions options;
  if (!config.tls.key_file.empty()) {
    auto key = read_file(config.tls.key_file, "tls.key_file", Code::kTls);
    if (!key.ok()) return key.error();
    options.key_pem = SecretString(std::move(*key));
  }
  if (!config.tls.client_ca_file.empty()) {
    auto ca = read_file(config.tls.client_ca_file, "tls.client_ca_file", Code::kTls);
    if (!ca.ok()) return ca.error();
    options.client_ca_pem = std::move(*ca);
  }
  options.address = config.listen.address;
  options.port = config.listen.port;
  options.cert_pem = std::move(*cert);
  options.max_body_bytes = config.limits.max_body_bytes;
  options.max_connections = config.limits.max_connections;
  return options;
}

// How long a start waits for the ring to have an active key (another replica may be making it).
constexpr std::chrono::seconds kStartTimeout{30};

std::string random_replica_id() {
  unsigned char bytes[8];
  RAND_bytes(bytes, sizeof bytes);
  return ring::to_hex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

ring::RingOptions ring_options(const config::Config& config) {
  ring::RingOptions options;
  options.algorithm = *jose::parse_alg(config.keys.algorithm);
  options.rsa_bits = config.keys.rsa_bits;
  options.replica = random_replica_id();
  for (const auto& profile : config.profiles) options.typs.push_back(profile.typ);
  // With a count limit, reserve a twentieth of it at a time, so that rotation is at most 5 %
  // late; without one, counts are for metrics only.
  const auto limit = config.keys.max_tokens_per_key;
  options.reserve_tokens = limit ? std::clamp<std::uint64_t>(limit / 20, 1, 1000) : 10000;
  return options;
}

ring::LifecyclePolicy lifecycle_policy(const config::Config& config) {
  ring::LifecyclePolicy policy;
  policy.rotate_every = config.keys.rotate_every.count();
  policy.max_tokens_per_key = config.keys.max_tokens_per_key;
  policy.prepublish = config.keys.prepublish.count();
  policy.jwks_max_age = config.jwks_max_age.count();
  policy.retire_grace = config.keys.retire_grace.count();
  policy.max_published = config.keys.max_published;
  policy.refresh_interval = config.keys.refresh_interval.count();
  return policy;
}

// Key events go to the audit ledger beside the tokens. A failed write is logged: the lifecycle
// step has happened in the token and cannot be undone by the ledger.
void record(audit::Ledger& ledger, ring::KeyEvent event, const std::string& kid) {
  audit::Record r;
  r.kid = kid;
  switch (event) {
    case ring::KeyEvent::kGenerated: r.event = audit::Event::kKeyGenerated; break;
    case ring::KeyEvent::kPromoted: r.event = audit::Event::kKeyPromoted; break;
    case ring::KeyEvent::kDestroyed: r.event = audit::Event::kKeyDestroyed; break;
    case ring::KeyEvent::kRevoked: r.event = audit::Event::kKeyRevoked; break;
  }
  if (auto written = ledger.append(std::move(r)); !written.ok()) {
    log::error("audit_key_event_lost", {{"kid", kid}, {"detail", written.error().message}});
  }
}

// Proves the TLS key and certificate belong together: from the file, or, with tls.key_uri,
// from the token, where the key is then served from (after the Hsm's login, which GnuTLS
// shares: the order hsm_tls_key.h explains).
Status use_tls_key(const config::Config& config, http::ServerOptions& options) {
  if (config.tls.key_uri.empty()) return http::check_tls_material(options.cert_pem, options.key_pem);
  auto key = http::HsmTlsKey::load({config.hsm.module, config.tls.key_uri, options.cert_pem}, "");
  if (!key.ok()) return key.error();
  http::HsmTlsKey::serve(std::move(*key));
  options.key_in_hsm = true;
  return ok_status();
}

// --check: everything a start would touch, without changing the token or listening.
int check(const config::Config& config) {
  auto tls = server_options(config);
  if (!tls.ok()) return fail(tls.error());
  auto token = open_hsm(config);
  if (!token.ok()) return fail(token.error());
  if (auto usable = use_tls_key(config, *tls); !usable.ok()) return fail(usable.error());
  auto keys = (*token)->list_keys();
  if (!keys.ok()) return fail(keys.error());
  std::printf("signetd: %s is valid\n  issuer %s, listen %s:%u, algorithm %s\n  token '%s': %zu Signet key pair(s)\n"
              "  %zu profile(s), %zu client(s)\n",
              config.path.c_str(), config.issuer.c_str(), config.listen.address.c_str(), config.listen.port,
              config.keys.algorithm.c_str(), config.hsm.token_label.c_str(), keys->size(), config.profiles.size(),
              config.clients.size());
  return 0;
}

// Blocks until SIGTERM or SIGINT. The signals are blocked in every thread (the mask is set
// before any thread starts), so they arrive here and nowhere else.
void wait_for_stop(const sigset_t& signals) {
  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    if (signal == SIGHUP) {
      log::warn("sighup_ignored", {{"detail", "this version reloads nothing on SIGHUP"}});
      continue;
    }
    log::info("stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    return;
  }
}

int serve(const config::Config& config, const sigset_t& signals) {
  auto options = server_options(config);
  if (!options.ok()) return fail(options.error());
  auto token = open_hsm(config);
  if (!token.ok()) return fail(token.error());
  hsm::Hsm& hsm = **token;
  if (auto usable = use_tls_key(config, *options); !usable.ok()) return fail(usable.error());

  std::unique_ptr<audit::Ledger> ledger;
  if (!config.audit_file.empty()) {
    auto opened = audit::Ledger::open(config.audit_file);
    if (!opened.ok()) return fail(opened.error());
    ledger = std::move(*opened);
  }

  ring::KeyRing ring(hsm, ring_options(config));
  ring::RotationJob rotation(ring, lifecycle_policy(config), &unix_now);
  ring.on_reservation([&rotation] { rotation.wake(); });
  if (ledger) rotation.on_key_event([&ledger](ring::KeyEvent event, const std::string& kid) { record(*ledger, event, kid); });
  if (auto started = rotation.start(kStartTimeout); !started.ok()) return fail(started.error());

  const issuance::Issuer issuer(config.issuer, ring, hsm, ledger.get(), &unix_now);
  const auth::ClientRegistry clients(config.clients);
  limits::RateLimiter limiter(config.clients.size(), config.limits.requests_per_second_per_client);
  const http::ApiContext context{config, ring, rotation, hsm, issuer, clients, limiter, http::render_discovery(config)};
  const auto router = http::make_router(context);
  auto server = http::Server::start(std::move(*options), *router);
  if (!server.ok()) return fail(server.error());

  log::info("listening", {{"address", config.listen.address},
                          {"port", std::to_string((*server)->port())},
                          {"kid", ring.snapshot()->active()->entry.kid},
                          {"replica", ring.options().replica}});
  wait_for_stop(signals);
  server->reset();  // drains in-flight requests before the ring and the HSM go away
  log::info("stopped");
  return 0;
}

int run(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--check") {
      check_only = true;
    } else if (arg == "--help" || arg == "-h") {
      std::puts(kUsage);
      return 0;
    } else {
      std::fprintf(stderr, "signetd: unknown argument '%s'; %s\n", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "signetd: %s\n", kUsage);
    return 2;
  }
  auto config = config::load(config_path);
  if (!config.ok()) return fail(config.error());
  if (check_only) return check(*config);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return serve(*config, signals);
}

}  // namespace
}  // namespace signet

int main(int argc, char** argv) {
  // No core dumps and no same-user ptrace: the process holds a logged-in HSM session.
  prctl(PR_SET_DUMPABLE, 0);
  return signet::run(argc, argv);
}
