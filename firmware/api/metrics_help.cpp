#include "firmware/api/metrics_help.h"

#include <array>
#include <utility>

namespace signet::api {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 28> kHelp = {{
    {"signet_build_info", "The version and git revision of this signetd; always 1."},
    {"signet_http_requests_total", "HTTP requests answered, by route and status."},
    {"signet_connections_open", "TLS connections open now."},
    {"signet_connections_refused_total", "Connections closed at once over limits.max_connections or the per-address limit."},
    {"signet_connections_timed_out_total", "Connections closed for missing their request or idle deadline."},
    {"signet_connections_parked", "Connections whose answer waits for its audit ledger line, holding no worker thread."},
    {"signet_auth_failures_total", "Failed authentications, by reason."},
    {"signet_auth_backoffs_total", "Backoffs started or lengthened for addresses failing authentication."},
    {"signet_auth_refused_total", "Requests refused while their address was in authentication backoff."},
    {"signet_auth_blocked_addresses", "Addresses in authentication backoff now."},
    {"signet_sign_seconds", "Time the HSM took to sign a token, by algorithm."},
    {"signet_hsm_errors_total", "Signatures the HSM failed to make."},
    {"signet_signing_queue_depth", "Requests waiting for a signing slot now."},
    {"signet_signing_in_flight", "Signatures being made in the HSM now."},
    {"signet_signing_refused_total", "Signing requests refused with 503 overloaded, by reason."},
    {"signet_keys", "Published keys, by lifecycle state."},
    {"signet_key_age_seconds", "Age of each published key, by kid and state."},
    {"signet_tokens_signed_total", "Tokens this replica signed, by kid."},
    {"signet_hsm_up", "1 while the HSM is connected and ready."},
    {"signet_hsm_state", "The HSM connection's state (ready, recovering, failed): 1 for the current one."},
    {"signet_hsm_recoveries_total", "Times the HSM connection was lost and restored."},
    {"signet_hsm_faults_total", "HSM faults that dropped the connection."},
    {"signet_hsm_guarantee", "1 when the token itself keeps the named promise for its keys, 0 when only Signet does."},
    {"signet_hsm_seconds_since_last_signature", "Seconds since the HSM last made a signature."},
    {"signet_rotation_failures_total", "Rotation job ticks that failed."},
    {"signet_tls_certificate_expiry_timestamp_seconds", "When the served TLS certificate expires (notAfter), as Unix time."},
    {"signet_reload_last_success", "Whether the last SIGHUP reload was applied (1) or refused (0)."},
    {"signet_reload_last_timestamp_seconds", "When the last SIGHUP reload was tried, as Unix time."},
}};

}  // namespace

std::string_view metric_help(std::string_view family) {
  for (const auto& [name, help] : kHelp) {
    if (name == family) return help;
  }
  return {};
}

std::string with_help(std::string_view exposition) {
  std::string out;
  out.reserve(exposition.size() + exposition.size() / 4);
  std::string_view previous;
  while (!exposition.empty()) {
    const auto end = exposition.find('\n');
    const std::string_view line = exposition.substr(0, end == std::string_view::npos ? exposition.size() : end + 1);
    exposition.remove_prefix(line.size());
    constexpr std::string_view kType = "# TYPE ";
    if (line.substr(0, kType.size()) == kType) {
      const std::string_view rest = line.substr(kType.size());
      const std::string_view family = rest.substr(0, rest.find(' '));
      const std::string help_prefix = "# HELP " + std::string(family) + " ";
      const std::string_view help = metric_help(family);
      if (!help.empty() && previous.substr(0, help_prefix.size()) != help_prefix) {
        out += help_prefix;
        out += help;
        out += '\n';
      }
    }
    out += line;
    previous = line;
  }
  return out;
}

}  // namespace signet::api
