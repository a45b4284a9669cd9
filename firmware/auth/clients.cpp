#include "firmware/auth/clients.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstdint>

namespace signet::auth {
namespace {

bool starts_with_bearer(std::string_view value) {
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = value[i];
    if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != kScheme[i]) return false;  // the scheme is case-insensitive
  }
  return true;
}

}  // namespace

const config::Client* ClientRegistry::authenticate_bearer(std::string_view authorization) const {
  if (!starts_with_bearer(authorization)) return nullptr;
  std::string_view key = authorization.substr(7);
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  if (key.empty() || key.size() > 1024) return nullptr;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  // Compare against every client, always: the loop's work is the same whichever one matches.
  const config::Client* found = nullptr;
  for (const auto& client : clients_) {
    const bool match = CRYPTO_memcmp(digest, client.api_key_sha256.data(), sizeof digest) == 0;
    found = match ? &client : found;
  }
  OPENSSL_cleanse(digest, sizeof digest);
  return found;
}

}  // namespace signet::auth
