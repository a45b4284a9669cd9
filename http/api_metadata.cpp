// GET /.well-known/oauth-authorization-server: RFC 8414 authorization server metadata, the
// OAuth 2.0 sibling of OIDC discovery, rendered from the same source (firmware/oauth/metadata.h).
#include "firmware/oauth/metadata.h"
#include "http/api.h"

namespace signet::http {

void add_metadata_routes(Router& router, const ApiContext& context) {
  // The config does not change while the process runs (a reload that would is refused).
  const std::string document = oauth::authorization_server_metadata(context.config).dump();
  const std::string cache_control = "public, max-age=" + std::to_string(context.config.jwks_max_age.count());
  router.add("GET", "/.well-known/oauth-authorization-server", [document, cache_control](const Request&) {
    Response r = json_response(200, document);
    r.headers.emplace_back("Cache-Control", cache_control);
    return r;
  });
}

}  // namespace signet::http
