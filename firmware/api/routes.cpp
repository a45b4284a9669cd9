// The route table: every route of docs/API.md, who may call it, and what answers it.
#include "firmware/api/routes.h"

#include <string>

#include "firmware/api/handlers.h"

namespace signet::api {
namespace {

constexpr Route kRoutes[] = {
    // method  path                                          access                 handler
    {"GET",    "/.well-known/jwks.json",                     Access::kPublic,       &jwks},
    {"GET",    "/jwks",                                      Access::kPublic,       &jwks},
    {"GET",    "/.well-known/openid-configuration",          Access::kPublic,       &discovery},
    {"GET",    "/.well-known/oauth-authorization-server",    Access::kPublic,       &authorization_server_metadata},
    {"GET",    "/healthz",                                   Access::kPublic,       &liveness},
    {"GET",    "/readyz",                                    Access::kPublic,       &readiness},
    {"POST",   "/v1/tokens",                                 Access::kClient,       &issue_token},
    {"POST",   "/auth",                                      Access::kClient,       &issue_auth},
    {"GET",    "/v1/keys",                                   Access::kAdmin,        &list_keys},
    {"POST",   "/v1/keys/rotate",                            Access::kAdmin,        &rotate_keys},
    {"POST",   "/v1/keys/{kid}/revoke",                      Access::kAdmin,        &revoke_key},
    {"POST",   "/v1/verify",                                 Access::kClient,       &introspect},
    {"POST",   "/oauth2/token",                              Access::kOAuthClient,  &oauth_token},
    {"POST",   "/oauth2/introspect",                         Access::kOAuthClient,  &oauth_introspect},
    {"GET",    "/metrics",                                   Access::kPublic,       &metrics},
};

}  // namespace

std::span<const Route> routes() { return kRoutes; }

std::unique_ptr<http::Router> make_router(const ApiContext& context) {
  auto router = std::make_unique<http::Router>();
  const http::Router* table = router.get();
  for (const Route& route : routes()) {
    router->add(std::string(route.method), std::string(route.path), [&context, table, route](const http::Request& request) {
      const auto caller = admit(context, request, route.access);
      if (!caller.ok()) return refusal(route.access, caller.error());
      return route.handler(Call{context, request, *caller, *table});
    });
  }
  return router;
}

}  // namespace signet::api
