// signetd: the composition root. The one place where the config becomes objects and the
// objects are wired together, and where an Error becomes an exit code (docs/API.md):
// 0 ok, 2 usage or invalid config, 3 HSM unavailable, 4 TLS material unusable, 1 otherwise.
#include <limits.h>
#include <malloc.h>
#include <openssl/sha.h>
#include <unistd.h>
#include <signal.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "base/exit_code.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/malloc_tunables.h"
#include "base/version.h"
#include "config/config.h"
#include "firmware/api/routes.h"
#include "firmware/audit/ledger.h"
#include "firmware/audit/token_anchor.h"
#include "firmware/auth/client_table.h"
#include "firmware/command_line.h"
#include "firmware/issuance/access_token.h"
#include "firmware/issuance/issuer.h"
#include "firmware/reload.h"
#include "firmware/ring/key_ring.h"
#include "firmware/ring/rotation_job.h"
#include "firmware/sd_notify.h"
#include "firmware/tls_files.h"
#include "hsm/hsm.h"
#include "http/server.h"

namespace signet {
namespace {

int fail(const Error& error) {
  std::fprintf(stderr, "signetd: %s\n", error.message.c_str());
  return exit_code(error.code);
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// wait_for_token: serve while an absent or failing token comes back (the daemon); --check
// wants the answer now.
Result<std::unique_ptr<hsm::Hsm>> open_hsm(const config::Config& config, bool wait_for_token) {
  auto pin_source = hsm::open_pin_source(config.hsm.pin_file, config.hsm.pin_env);
  if (!pin_source.ok()) return pin_source.error();
  hsm::Options options;
  options.module_path = config.hsm.module;
  options.token_label = config.hsm.token_label;
  options.token_serial = config.hsm.token_serial;
  options.slot_id = config.hsm.slot_id;
  options.pin_source = std::move(*pin_source);
  options.wait_for_token = wait_for_token;
  // A token without this algorithm's mechanisms is refused at start, naming them.
  options.scheme = ring::scheme_for(*jose::parse_alg(config.keys.algorithm));
  return hsm::Hsm::open(std::move(options));
}

// The longest lifetime a token can be given: the longest profile ttl (a client's max_ttl only
// shortens it, since a request above its profile's ttl is refused).
std::int64_t max_token_lifetime(const config::Config& config) {
  std::int64_t longest = 0;
  for (const auto& profile : config.profiles) longest = std::max<std::int64_t>(longest, profile.ttl.count());
  return longest;
}

http::ServerOptions server_options(const config::Config& config, const TlsFiles& tls) {
  http::ServerOptions options;
  options.client_trust = tls.client_trust;
  options.address = config.listen.address;
  options.port = config.listen.port;
  options.max_body_bytes = config.limits.max_body_bytes;
  options.max_connections = config.limits.max_connections;
  options.max_connections_per_address = config.limits.max_connections_per_address;
  options.request_timeout = config.limits.request_timeout;
  options.idle_timeout = config.limits.idle_timeout;
  options.threads = issuance::http_worker_threads(config.limits);  // why so many: signing_gate.h
  return options;
}

// How long a start waits for the ring to have an active key (another replica may be making it).
constexpr std::chrono::seconds kStartTimeout{30};

// The same for every start of this replica (its host and listening address), so that a
// restart takes up its own lease and usage record again rather than leaving new ones in the
// token: the token's objects stay bounded, and a full token still lets a restarted replica
// sign (its records are rewritten in their own room). Two replicas never share it, since they
// cannot listen on the same address of the same host.
std::string replica_id(const config::Config& config) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  const std::string who = std::string(host) + "|" + config.listen.address + ":" + std::to_string(config.listen.port);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(who.data()), who.size(), digest);
  return hex::encode(digest, 8);
}

ring::RingOptions ring_options(const config::Config& config) {
  ring::RingOptions options;
  options.algorithm = *jose::parse_alg(config.keys.algorithm);
  options.rsa_bits = config.keys.rsa_bits;
  options.replica = replica_id(config);
  for (const auto& profile : config.profiles) options.typs.push_back(profile.typ);
  options.typs.emplace_back(issuance::kAccessTokenTyp);  // what the OAuth 2.0 grant signs
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
  policy.max_token_lifetime = max_token_lifetime(config);
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
    case ring::KeyEvent::kAdopted: r.event = audit::Event::kKeyAdopted; break;
    case ring::KeyEvent::kLost: r.event = audit::Event::kKeyLost; break;
  }
  if (auto written = ledger.append(std::move(r)); !written.ok()) {
    log::error("audit_key_event_lost", {{"kid", kid}, {"detail", written.error().message}});
  }
}

// The TLS key in the token again, through the new login. A failure keeps the old identity (its
// handshakes fail until the next recovery or SIGHUP) and says so.
void refresh_token_identity(const config::Config& config, const TlsFiles& tls) {
  auto identity = load_tls_identity(config, tls);
  if (!identity.ok()) {
    log::error("tls_identity_not_refreshed", {{"detail", identity.error().message}});
    return;
  }
  http::TlsIdentity::serve(std::move(*identity));
  log::info("tls_identity_refreshed");
}

// Which of Signet's promises this token keeps itself, said once the ring has read or made its keys
// (the token's answers about them decide "allowed_mechanisms"). The same as /metrics shows.
void log_guarantees(const hsm::Hsm& hsm) {
  const hsm::TokenProfile profile = hsm.token_profile();
  std::string by_token;
  std::string by_signet_only;
  for (const hsm::Guarantee& g : hsm::guarantees(profile)) {
    std::string& list = g.by_token ? by_token : by_signet_only;
    list += (list.empty() ? "" : ",") + std::string(g.name);
  }
  auto event = by_signet_only.empty() ? log::info : log::warn;
  event("hsm_guarantees", {{"enforced_by_token", by_token},
                           {"not_enforced_by_token", by_signet_only.empty() ? "none" : by_signet_only},
                           {"allowed_mechanisms", hsm::binding_name(profile.allowed_mechanisms)}});
}

// --check: everything a start would touch, without changing the token or listening.
int check(const config::Config& config) {
  auto tls = read_tls_files(config);
  if (!tls.ok()) return fail(tls.error());
  auto token = open_hsm(config, false);
  if (!token.ok()) return fail(token.error());
  if (auto identity = load_tls_identity(config, *tls); !identity.ok()) return fail(identity.error());
  auto keys = (*token)->list_keys();
  if (!keys.ok()) return fail(keys.error());
  const std::string token_name = config.hsm.uri.empty() ? "'" + config.hsm.token_label + "'" : config.hsm.uri;
  std::printf("signetd: %s is valid\n  issuer %s, listen %s:%u, algorithm %s\n  token %s: %zu Signet key pair(s)\n"
              "  %zu profile(s), %zu client(s)\n",
              config.path.c_str(), config.issuer.c_str(), config.listen.address.c_str(), config.listen.port,
              config.keys.algorithm.c_str(), token_name.c_str(), keys->size(), config.profiles.size(),
              config.clients.size());
  return 0;
}

// Blocks until SIGTERM or SIGINT, reloading at each SIGHUP. The signals are blocked in every
// thread (the mask is set before any thread starts), so they arrive here and nowhere else.
// Every 5 s without a signal, the free pages inside malloc's heaps go back to the system: with
// the per-thread caches off (base/malloc_tunables.h) the freed chunks are in the arenas' bins,
// where malloc_trim finds them, and the heap's free middle no longer adds up in RSS
// (docs/PERFORMANCE.md, "Where the memory went").
void wait_for_stop(const sigset_t& signals, Reloader& reloader, http::ReloadRecord& reloads) {
  const timespec trim_every{5, 0};
  for (;;) {
    const int signal = sigtimedwait(&signals, nullptr, &trim_every);
    if (signal < 0) {
      if (errno == EAGAIN) malloc_trim(0);
      continue;
    }
    if (signal == SIGHUP) {
      notify_systemd("RELOADING=1");
      // The reload logs its outcome; a refused one changes nothing. /metrics shows the last.
      reloads.record(reloader.reload().ok(), unix_now());
      notify_systemd("READY=1");
      continue;
    }
    log::info("stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    return;
  }
}

int serve(const config::Config& config, const sigset_t& signals) {
  auto tls = read_tls_files(config);
  if (!tls.ok()) return fail(tls.error());
  auto token = open_hsm(config, true);
  if (!token.ok()) return fail(token.error());
  hsm::Hsm& hsm = **token;
  auto identity = load_tls_identity(config, *tls);
  tls->key_pem.wipe();  // GnuTLS holds the key now
  if (!identity.ok()) return fail(identity.error());
  http::TlsIdentity::serve(std::move(*identity));

  audit::TokenAnchor anchor(hsm, config.audit_name);  // the ledger's head, in the token
  std::unique_ptr<audit::Ledger> ledger;
  if (!config.audit_file.empty()) {
    auto opened = audit::Ledger::open(config.audit_file, anchor, {.anchor_interval = config.audit_anchor_interval});
    if (!opened.ok()) return fail(opened.error());
    ledger = std::move(*opened);
  }

  ring::KeyRing ring(hsm, ring_options(config));
  ring::RotationJob rotation(ring, lifecycle_policy(config));
  ring.on_reservation([&rotation] { rotation.wake(); });
  // After the token logged us in again, its object handles are new: the ring re-reads them at
  // once, and a TLS key in the token is looked up again (GnuTLS keeps the old handle forever).
  hsm.on_recovered([&rotation, &config, &tls] {
    rotation.wake();
    if (!config.tls.key_uri.empty()) refresh_token_identity(config, *tls);
  });
  // Whatever way serve() ends, the listener goes before what it refers to.
  struct ForgetListener {
    hsm::Hsm& hsm;
    ~ForgetListener() { hsm.on_recovered(nullptr); }
  } forget_listener{hsm};
  if (ledger) rotation.on_key_event([&ledger](ring::KeyEvent event, const std::string& kid) { record(*ledger, event, kid); });
  if (auto started = rotation.start(kStartTimeout); !started.ok()) return fail(started.error());

  log_guarantees(hsm);

  const issuance::Issuer issuer(config.issuer, ring, hsm, ledger.get(), &unix_now,
                                issuance::signing_gate_options(config.limits, hsm.session_capacity()));
  auth::ClientDirectory clients(
      std::make_shared<const auth::ClientTable>(config.clients, config.limits.requests_per_second_per_client));
  const api::ApiContext context{config, ring, rotation, hsm, issuer, clients, api::render_discovery(config)};
  const auto router = api::make_router(context);
  auto server = http::Server::start(server_options(config, *tls), *router);
  if (!server.ok()) return fail(server.error());
  Reloader reloader(config, std::move(tls->identity_digest), clients, **server);

  const ring::RingKey* active = ring.snapshot()->active();
  log::info("listening", {{"address", config.listen.address},
                          {"port", std::to_string((*server)->port())},
                          {"kid", active ? std::string_view(active->entry.kid) : std::string_view("none yet")},
                          {"hsm", hsm::health_name(hsm.health().state)},
                          {"replica", ring.options().replica}});
  notify_systemd("READY=1");  // Type=notify: started means serving
  wait_for_stop(signals, reloader, *context.reloads);
  notify_systemd("STOPPING=1");
  server->reset();  // drains in-flight requests before the ring and the HSM go away
  log::info("stopped");
  return 0;
}

int run(int argc, char** argv) {
  auto line = parse_command_line(argc, argv);
  if (!line.ok()) {
    std::fprintf(stderr, "signetd: %s (try --help)\n", line.error().message.c_str());
    return kExitUsage;
  }
  if (line->action == CommandLine::Action::kHelp) {
    std::fputs(signetd_help(), stdout);
    return 0;
  }
  if (line->action == CommandLine::Action::kVersion) {
    std::puts(version_line("signetd").c_str());
    return 0;
  }
  const std::string& config_path = line->config_path;
  const bool check_only = line->action == CommandLine::Action::kCheck;
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

// Runs this program again, in this process, with glibc's per-thread malloc cache turned off
// (base/malloc_tunables.h), unless GLIBC_TUNABLES already says how big it is. The program is
// found through /proc/self/exe, so that it is this binary even if the file was replaced since;
// where it cannot be run again, signetd goes on with the caches.
void run_again_without_thread_caches(char** argv) {
  const char* before = std::getenv("GLIBC_TUNABLES");
  const auto tunables = tunables_without_thread_cache(before);
  if (!tunables) return;
  char self[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
  if (length <= 0) return;
  self[length] = '\0';
  const std::string kept = before ? before : "";
  if (setenv("GLIBC_TUNABLES", tunables->c_str(), 1) != 0) return;
  execv(self, argv);
  if (before) {
    setenv("GLIBC_TUNABLES", kept.c_str(), 1);
  } else {
    unsetenv("GLIBC_TUNABLES");
  }
}

}  // namespace
}  // namespace signet

int main(int argc, char** argv) {
  signet::run_again_without_thread_caches(argv);
  // No core dumps and no same-user ptrace: the process holds a logged-in HSM session.
  prctl(PR_SET_DUMPABLE, 0);
  // glibc gives each thread that allocates an arena of its own, up to 8 per core, and each
  // keeps its freed memory: with one HTTP worker per signing slot, resident memory climbed for
  // hundreds of thousands of requests before levelling off. One arena per core bounds that
  // (docs/PERFORMANCE.md, "Memory over 500,000 tokens"); the per-thread caches are off above.
  mallopt(M_ARENA_MAX, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  return signet::run(argc, argv);
}
