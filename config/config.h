// Signet's configuration: the one JSON file of docs/API.md read into plain structs.
// Loading validates everything up front: unknown keys, wrong types, bad durations and
// inconsistent references are errors that name the file, the field and why. Paths come back
// resolved against the config file's folder. No secret is ever held here: the PIN is named by
// a file or an environment variable and read by the HSM layer.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace signet::config {

using Seconds = std::chrono::seconds;

struct Listen {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8443;
  bool operator==(const Listen&) const = default;
};

struct Tls {
  std::string cert_file;
  std::string key_file;         // exactly one of key_file and key_uri
  std::string key_uri;          // a PKCS#11 URI: the TLS key stays in the HSM too
  std::string client_ca_file;  // empty: no mTLS
  bool operator==(const Tls&) const = default;
};

struct Hsm {
  std::string module;
  std::string token_label;  // empty when uri selects the token by serial or slot alone
  std::string uri;           // RFC 7512, as given; its selection is in the fields around it
  std::string token_serial;  // from uri: the token must carry this serial number
  std::optional<std::uint64_t> slot_id;  // from uri: the token must be in this slot
  std::string pin_file;  // exactly one of pin_file, pin_env and pin_credential
  std::string pin_env;
  // A systemd credential (LoadCredential=NAME:...): read as the file $CREDENTIALS_DIRECTORY/NAME,
  // which loading puts into pin_file. Loading fails without $CREDENTIALS_DIRECTORY.
  std::string pin_credential;
  bool operator==(const Hsm&) const = default;
};

struct Keys {
  std::string algorithm = "ES256";  // RS256, PS256, ES256 or EdDSA
  unsigned rsa_bits = 2048;
  Seconds rotate_every{30 * 86400};
  std::uint64_t max_tokens_per_key = 0;  // 0: no count limit
  Seconds prepublish{3600};
  Seconds retire_grace{86400};
  std::size_t max_published = 4;
  Seconds refresh_interval{5};  // how often every replica re-reads the ring from the token
  bool operator==(const Keys&) const = default;
};

struct Profile {
  std::string name;
  Seconds ttl{0};
  std::optional<std::string> audience;  // the default aud when the request names none
  std::string typ = "JWT";
  bool operator==(const Profile&) const = default;
};

struct Client {
  std::string id;
  std::string api_key_sha256;  // 32 raw bytes; empty for a certificate-only client
  std::string cert_subject;    // RFC 4514 subject of its mTLS certificate, e.g. "CN=ai-engine"
  std::vector<std::string> profiles;   // names of profiles, in the config's order
  std::vector<std::string> audiences;  // exact, or a prefix ending in '*'
  std::optional<Seconds> max_ttl;
  std::vector<std::string> claims;  // names the client may set
  bool admin = false;
  bool operator==(const Client&) const = default;
};

struct Limits {
  std::size_t max_body_bytes = 16384;
  unsigned max_connections = 1024;
  // Connections one client address may hold at once (0: no limit, for a deployment behind a
  // load balancer, where every connection comes from its address). Default: 64, or half of
  // max_connections when that is smaller, so that one address never holds them all.
  unsigned max_connections_per_address = 64;
  // A new connection must finish its TLS handshake and send its first whole request within
  // request_timeout; after an answer, the next request must arrive whole within idle_timeout,
  // else the connection is closed. Bytes trickled in do not extend either deadline.
  Seconds request_timeout{10};
  Seconds idle_timeout{30};
  // Failed authentications one address may make before its requests with credentials are
  // refused (429) for a backoff that doubles with each further failure, up to max_auth_backoff
  // (0: no limit). firmware/limits/auth_failures.h.
  unsigned auth_failures_per_address = 10;
  Seconds max_auth_backoff{900};
  double requests_per_second_per_client = 0;  // 0: no limit
  // The signing gate (firmware/issuance/signing_gate.h): signatures in the HSM at once (0: as
  // many as its sessions allow), callers that may wait for one, and how long each may wait,
  // before a 503 "overloaded" with Retry-After.
  std::size_t max_signing_concurrency = 0;
  std::size_t max_signing_queue = 64;
  unsigned max_signing_wait_ms = 250;
  bool operator==(const Limits&) const = default;
};

struct Config {
  std::string path;  // the file it came from
  std::string issuer;
  Listen listen;
  Tls tls;
  Hsm hsm;
  Keys keys;
  Seconds jwks_max_age{3600};
  Seconds verify_leeway{30};
  std::vector<Profile> profiles;  // in the config's order
  std::vector<Client> clients;
  bool test_mode = false;
  Limits limits;
  std::string audit_file;  // empty: no audit ledger
  // Names the ledger's head in the token ("signet:audit:head" or "signet:audit:head:<name>"),
  // so that replicas on one token can each keep a ledger of their own.
  std::string audit_name;
  // How often the ledger's head is anchored in the token: 0 at every group commit, before the
  // tokens of the group are answered; otherwise at most once per interval, after they are.
  Seconds audit_anchor_interval{0};

  const Profile* find_profile(std::string_view name) const;
  bool operator==(const Config&) const = default;
};

// Reads and validates the file. Errors have Code::kConfig.
Result<Config> load(const std::string& path);
// The same from text; relative paths resolve against dirname(path).
Result<Config> parse(std::string_view text, const std::string& path);

// What SIGHUP cannot apply: the names of the settings in which next differs from running,
// other than those a reload applies (clients, limits.requests_per_second_per_client, and the
// files and key of tls, as long as mTLS stays on or off). Empty when a reload can apply next.
std::vector<std::string> settings_needing_restart(const Config& running, const Config& next);

// Whether a duration may be "0s": only where zero has a meaning (no leeway, no grace, no
// caching), never for a lifetime or an interval.
enum class Zero { kRefused, kAllowed };

// "90s", "5m", "1h", "30d": a whole number of at most nine digits and one unit; zero only with
// Zero::kAllowed. Signs, fractions, spaces and several units are refused.
std::optional<Seconds> parse_duration(std::string_view text, Zero zero = Zero::kRefused);

// Claims that Signet sets itself: a client may neither be allowed nor ask for them.
bool is_reserved_claim(std::string_view name);

}  // namespace signet::config
