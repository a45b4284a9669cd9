#include "firmware/oauth/metadata.h"

#include <string>
#include <vector>

namespace signet::oauth {

nlohmann::ordered_json authorization_server_metadata(const config::Config& config) {
  // The endpoints hang off the issuer, which names this server (RFC 8414 §2: "https" URL
  // with no query or fragment); a trailing slash would double the one of each path.
  std::string base = config.issuer;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::vector<std::string> auth_methods{"client_secret_basic"};
  // RFC 8705 §2.1.2: certificate subjects are only checked when a client CA is configured.
  if (!config.tls.client_ca_file.empty()) auth_methods.emplace_back("tls_client_auth");
  std::vector<std::string> scopes;
  for (const auto& profile : config.profiles) scopes.push_back(profile.name);

  nlohmann::ordered_json doc;
  doc["issuer"] = config.issuer;
  doc["jwks_uri"] = base + "/.well-known/jwks.json";
  doc["token_endpoint"] = base + "/oauth2/token";
  doc["introspection_endpoint"] = base + "/oauth2/introspect";
  doc["grant_types_supported"] = {"client_credentials"};
  // Required by RFC 8414 and by OpenID Connect; empty since no authorization endpoint exists.
  doc["response_types_supported"] = nlohmann::ordered_json::array();
  doc["token_endpoint_auth_methods_supported"] = auth_methods;
  doc["introspection_endpoint_auth_methods_supported"] = auth_methods;
  doc["scopes_supported"] = scopes;
  return doc;
}

nlohmann::ordered_json openid_configuration(const config::Config& config) {
  nlohmann::ordered_json doc = authorization_server_metadata(config);
  doc["subject_types_supported"] = {"public"};
  // No ID token is issued; the member is required, and names the algorithm the JWKS's keys
  // sign with, which is what a discovery-driven verifier needs to know.
  doc["id_token_signing_alg_values_supported"] = {config.keys.algorithm};
  return doc;
}

}  // namespace signet::oauth
