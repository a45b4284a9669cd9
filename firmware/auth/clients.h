// Who is asking: maps a presented credential to a configured client. API keys are compared
// by their SHA-256 in constant time against every client, so neither the answer's timing nor
// its path depends on how much of a key matched or which client it belongs to.
#pragma once

#include <string_view>
#include <vector>

#include "config/config.h"

namespace signet::auth {

// Whether an Authorization header value uses the Bearer scheme (case-insensitive) with a
// credential after it.
bool is_bearer(std::string_view authorization);

class ClientRegistry {
 public:
  explicit ClientRegistry(const std::vector<config::Client>& clients) : clients_(clients) {}

  // The client whose API key is the bearer credential in this Authorization header value, or
  // nullptr (no header, another scheme, or no match).
  const config::Client* authenticate_bearer(std::string_view authorization) const;
  // The client with this id whose API key is secret (HTTP Basic, RFC 6749 §2.3.1), or nullptr.
  const config::Client* authenticate_secret(std::string_view id, std::string_view secret) const;
  // The client whose cert_subject is this verified certificate subject, or nullptr.
  const config::Client* authenticate_certificate(std::string_view subject) const;

 private:
  const config::Client* match_key(std::string_view key, std::string_view only_id) const;

  const std::vector<config::Client>& clients_;
};

}  // namespace signet::auth
