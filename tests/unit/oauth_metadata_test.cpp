#include "firmware/oauth/metadata.h"

#include <gtest/gtest.h>

namespace signet::oauth {
namespace {

config::Config sample() {
  config::Config config;
  config.issuer = "https://signet.example/";
  config.keys.algorithm = "EdDSA";
  config.profiles = {{"access", config::Seconds(3600), "api", "at+jwt"}, {"service", config::Seconds(300), "svc", "JWT"}};
  return config;
}

TEST(OAuthMetadata, NamesTheServedEndpointsUnderTheIssuer) {
  const auto doc = authorization_server_metadata(sample());
  EXPECT_EQ(doc["issuer"], "https://signet.example/");
  EXPECT_EQ(doc["token_endpoint"], "https://signet.example/oauth2/token");
  EXPECT_EQ(doc["introspection_endpoint"], "https://signet.example/oauth2/introspect");
  EXPECT_EQ(doc["jwks_uri"], "https://signet.example/.well-known/jwks.json");
  EXPECT_EQ(doc["grant_types_supported"], nlohmann::json::array({"client_credentials"}));
  EXPECT_EQ(doc["response_types_supported"], nlohmann::json::array());
  EXPECT_EQ(doc["scopes_supported"], nlohmann::json::array({"access", "service"}));
  EXPECT_FALSE(doc.contains("authorization_endpoint"));
}

TEST(OAuthMetadata, CertificateAuthenticationOnlyWithAClientCa) {
  auto config = sample();
  EXPECT_EQ(authorization_server_metadata(config)["token_endpoint_auth_methods_supported"],
            nlohmann::json::array({"client_secret_basic"}));
  config.tls.client_ca_file = "/etc/signet/clients-ca.crt";
  const auto doc = authorization_server_metadata(config);
  EXPECT_EQ(doc["token_endpoint_auth_methods_supported"], nlohmann::json::array({"client_secret_basic", "tls_client_auth"}));
  EXPECT_EQ(doc["introspection_endpoint_auth_methods_supported"], doc["token_endpoint_auth_methods_supported"]);
}

TEST(OAuthMetadata, DiscoveryIsTheMetadataPlusWhatOpenIdConnectRequires) {
  const auto config = sample();
  const auto oauth = authorization_server_metadata(config);
  const auto oidc = openid_configuration(config);
  for (const auto& [name, value] : oauth.items()) EXPECT_EQ(oidc[name], value) << name;
  EXPECT_EQ(oidc["subject_types_supported"], nlohmann::json::array({"public"}));
  EXPECT_EQ(oidc["id_token_signing_alg_values_supported"], nlohmann::json::array({"EdDSA"}));
}

}  // namespace
}  // namespace signet::oauth
