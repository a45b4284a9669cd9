#include "firmware/auth/clients.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

namespace signet::auth {
namespace {

config::Client client_with_key(const std::string& id, const std::string& key) {
  config::Client c;
  c.id = id;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  c.api_key_sha256.assign(reinterpret_cast<const char*>(digest), sizeof digest);
  return c;
}

TEST(ClientRegistry, FindsTheClientOfABearerKey) {
  const std::vector<config::Client> clients = {client_with_key("a", "key-a"), client_with_key("b", "key-b")};
  const ClientRegistry registry(clients);
  EXPECT_EQ(registry.authenticate_bearer("Bearer key-a"), &clients[0]);
  EXPECT_EQ(registry.authenticate_bearer("Bearer key-b"), &clients[1]);
  EXPECT_EQ(registry.authenticate_bearer("bearer key-b"), &clients[1]);  // the scheme is case-insensitive
  EXPECT_EQ(registry.authenticate_bearer("Bearer  key-b"), &clients[1]);
}

TEST(ClientRegistry, RefusesEverythingElse) {
  const std::vector<config::Client> clients = {client_with_key("a", "key-a")};
  const ClientRegistry registry(clients);
  for (const char* header : {"", "Bearer", "Bearer ", "Bearer key-A", "Bearer key-a ", "Basic key-a", "key-a",
                             "Bearerkey-a"}) {
    EXPECT_EQ(registry.authenticate_bearer(header), nullptr) << header;
  }
  EXPECT_EQ(registry.authenticate_bearer("Bearer " + std::string(5000, 'k')), nullptr);
}

}  // namespace
}  // namespace signet::auth
