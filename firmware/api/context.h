// What the API's handlers work on: the daemon's objects (ApiContext), and each call with the
// client that made it. The composition root (firmware/main.cpp) makes the context; routes.h
// turns it into the served table.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "firmware/auth/client_table.h"
#include "firmware/issuance/issuer.h"
#include "firmware/limits/auth_failures.h"
#include "firmware/ring/key_ring.h"
#include "firmware/ring/rotation_job.h"
#include "hsm/hsm.h"
#include "http/message.h"
#include "http/router.h"
#include "http/service_metrics.h"

namespace signet::api {

// Everything the handlers use; it must outlive the router.
struct ApiContext {
  const config::Config& config;
  ring::KeyRing& ring;
  ring::RotationJob& rotation;
  hsm::Hsm& hsm;
  const issuance::Issuer& issuer;
  const auth::ClientDirectory& clients;  // replaced by SIGHUP: ignore config.clients
  std::string discovery_document;  // rendered once at start (render_discovery)
  // RFC 8414 metadata (GET /.well-known/oauth-authorization-server), rendered once: the config
  // does not change while the process runs (a reload that would is refused).
  std::string authorization_server_metadata_document = render_authorization_server_metadata(config);
  // Cache-Control of the JWKS and discovery: never longer than the ring's pre-publication, so
  // that a cached JWKS always holds the next signer.
  std::string cache_control = "public, max-age=" + std::to_string(config.jwks_max_age.count());
  // Failed authentications by address (limits.auth_failures_per_address). Made here from the
  // config, so that the composition root, which names the members above, need not know it.
  std::shared_ptr<limits::AuthFailures> auth_failures = make_auth_failures(config.limits);
  std::shared_ptr<http::ReloadRecord> reloads = std::make_shared<http::ReloadRecord>();  // SIGHUP's outcome, for /metrics

  static std::shared_ptr<limits::AuthFailures> make_auth_failures(const config::Limits& limits);
  static std::string render_authorization_server_metadata(const config::Config& config);
};

// The OIDC discovery document of this configuration.
std::string render_discovery(const config::Config& config);

// An authenticated client. It keeps the client table it comes from alive, so a SIGHUP during
// the request changes nothing for it.
using Caller = std::shared_ptr<const config::Client>;

// One request to one route, once its access has been checked.
struct Call {
  const ApiContext& context;
  const http::Request& request;
  const Caller& caller;        // null on public routes; an admin on admin routes
  const http::Router& router;  // the table that answers it (for /metrics)
};

using Handler = http::Response (*)(const Call& call);

}  // namespace signet::api
