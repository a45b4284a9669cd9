// Signet's HTTP API (docs/API.md) as a routing table over the firmware's objects. The handlers
// translate between HTTP and the firmware: they parse, call, and map errors in one place.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <string>

#include "config/config.h"
#include "firmware/auth/client_table.h"
#include "firmware/limits/auth_failures.h"
#include "firmware/issuance/issuer.h"
#include "firmware/ring/key_ring.h"
#include "firmware/ring/rotation_job.h"
#include "hsm/hsm.h"
#include "http/router.h"
#include "http/service_metrics.h"

namespace signet::http {

// Everything the handlers use; it must outlive the router.
struct ApiContext {
  const config::Config& config;
  ring::KeyRing& ring;
  ring::RotationJob& rotation;
  hsm::Hsm& hsm;
  const issuance::Issuer& issuer;
  const auth::ClientDirectory& clients;  // replaced by SIGHUP: ignore config.clients
  std::string discovery_document;  // rendered once at start
  // Failed authentications by address (limits.auth_failures_per_address). Made here from the
  // config, so that the composition root, which names the members above, need not know it.
  std::shared_ptr<limits::AuthFailures> auth_failures = make_auth_failures(config.limits);
  std::shared_ptr<ReloadRecord> reloads = std::make_shared<ReloadRecord>();  // SIGHUP's outcome, for /metrics

  static std::shared_ptr<limits::AuthFailures> make_auth_failures(const config::Limits& limits);
};

std::string render_discovery(const config::Config& config);

// The whole table; it stays where it is made, since /metrics reads its counters.
std::unique_ptr<Router> make_router(const ApiContext& context);

// The two halves of the table, one file each.
void add_public_routes(Router& router, const ApiContext& context);
void add_token_routes(Router& router, const ApiContext& context);
void add_admin_routes(Router& router, const ApiContext& context);
void add_verify_routes(Router& router, const ApiContext& context);
void add_oauth_routes(Router& router, const ApiContext& context);
void add_introspect_routes(Router& router, const ApiContext& context);
void add_metadata_routes(Router& router, const ApiContext& context);

// "application/json", optionally with parameters such as charset.
bool is_json_media_type(std::optional<std::string_view> content_type);

// An authenticated client. It keeps the client table it comes from alive, so a SIGHUP during
// the request changes nothing for it.
using Caller = std::shared_ptr<const config::Client>;

// The client a Bearer credential (or a verified client certificate) names, within its rate
// limit: kUnauthenticated or kRateLimited errors.
Result<Caller> authenticate(const ApiContext& context, const Request& request);
// The rate limit alone, for routes that authenticate in their own way (OAuth 2.0): `client`
// is one of table's clients.
Result<Caller> admit(std::shared_ptr<const auth::ClientTable> table, const config::Client& client);

// The client's address as the failure counts key it.
limits::Address peer_address(const Request& request);
// kRateLimited (429 with Retry-After) while the address is in backoff for failed
// authentications: asked before any credential is checked.
Status check_auth_backoff(const ApiContext& context, const limits::Address& from);
// Counts, and logs (address, route, reason, and the client id HTTP Basic named; never the
// credential), one failed authentication.
void note_auth_failure(const ApiContext& context, const Request& request, const limits::Address& from,
                       limits::AuthFailures::Reason reason, std::string_view client_id = {});

}  // namespace signet::http
