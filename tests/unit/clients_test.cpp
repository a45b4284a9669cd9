#include "firmware/auth/clients.h"

#include "firmware/auth/client_table.h"

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

TEST(ClientTable, AReloadKeepsTheBucketsOfClientsThatStay) {
  const auto now = limits::RateLimiter::Clock::now();
  const ClientTable before({client_with_key("a", "key-a"), client_with_key("b", "key-b")}, 1.0);
  EXPECT_TRUE(before.admit(before.clients()[0], now).allowed);  // a's burst of one is spent
  const ClientTable after({client_with_key("c", "key-c"), client_with_key("a", "key-a")}, 1.0, &before);
  EXPECT_FALSE(after.admit(after.clients()[1], now).allowed);  // a, now second, is still empty
  EXPECT_TRUE(after.admit(after.clients()[0], now).allowed);   // c is new: a full bucket
  EXPECT_TRUE(after.admit(after.clients()[1], now + std::chrono::seconds(1)).allowed);
}

TEST(ClientTable, AuthenticatesItsOwnClients) {
  const ClientTable table({client_with_key("a", "key-a")}, 0);
  EXPECT_EQ(table.registry().authenticate_bearer("Bearer key-a"), &table.clients()[0]);
  ClientDirectory directory(std::make_shared<const ClientTable>(std::vector{client_with_key("a", "key-a")}, 0));
  const auto held = directory.current();
  directory.publish(std::make_shared<const ClientTable>(std::vector{client_with_key("b", "key-b")}, 0));
  // A request that loaded the old table keeps it whole; new requests see the new one.
  EXPECT_NE(held->registry().authenticate_bearer("Bearer key-a"), nullptr);
  EXPECT_EQ(directory.current()->registry().authenticate_bearer("Bearer key-a"), nullptr);
  EXPECT_NE(directory.current()->registry().authenticate_bearer("Bearer key-b"), nullptr);
}

}  // namespace
}  // namespace signet::auth
