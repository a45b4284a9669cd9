#include "firmware/auth/clients.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstdint>

namespace signet::auth {
bool is_bearer(std::string_view value) {
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = value[i];
    if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != kScheme[i]) return false;  // the scheme is case-insensitive
  }
  return true;
}

// The client (among those with id `only_id`, or all when empty) whose key hashes like key.
// Every candidate is compared, always: the work is the same whichever one matches.
const config::Client* ClientRegistry::match_key(std::string_view key, std::string_view only_id) const {
  if (key.empty() || key.size() > 1024) return nullptr;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  const config::Client* found = nullptr;
  for (const auto& client : clients_) {
    if (client.api_key_sha256.size() != sizeof digest) continue;  // a certificate-only client
    const bool match = CRYPTO_memcmp(digest, client.api_key_sha256.data(), sizeof digest) == 0 &&
                       (only_id.empty() || client.id == only_id);
    found = match ? &client : found;
  }
  OPENSSL_cleanse(digest, sizeof digest);
  return found;
}

const config::Client* ClientRegistry::authenticate_bearer(std::string_view authorization) const {
  if (!is_bearer(authorization)) return nullptr;
  std::string_view key = authorization.substr(7);
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  return match_key(key, {});
}

const config::Client* ClientRegistry::authenticate_secret(std::string_view id, std::string_view secret) const {
  if (id.empty()) return nullptr;
  return match_key(secret, id);
}

const config::Client* ClientRegistry::authenticate_certificate(std::string_view subject) const {
  for (const auto& client : clients_) {
    if (!client.cert_subject.empty() && client.cert_subject == subject) return &client;
  }
  return nullptr;
}

}  // namespace signet::auth
