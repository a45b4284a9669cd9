#include "hsm/connection.h"

#include <algorithm>
#include <utility>

#include "hsm/capabilities.h"

namespace signet::hsm {
namespace {

// Opened at once, so that a token that cannot serve fails the connection rather than the first
// signature.
constexpr std::size_t kPreopenedSessions = 4;

}  // namespace

Result<std::shared_ptr<Connection>> connect(std::shared_ptr<Module> module, const TokenSelector& selector,
                                            SecretString& pin, std::size_t max_sessions,
                                            std::uint64_t generation,
                                            std::optional<SignScheme> scheme) {
  auto token = Token::open(std::move(module), selector, pin);
  if (!token.ok()) return token.error();
  auto profile = probe_token((*token)->api(), (*token)->slot());
  if (!profile.ok()) return profile.error();
  if (scheme) {
    if (Status can = require_scheme(*profile, selector.describe(), *scheme); !can.ok()) return can.error();
  }
  std::size_t capacity = max_sessions;
  if ((*token)->session_limit() != 0) {
    capacity = std::min<std::size_t>(capacity, (*token)->session_limit());
  }
  auto pool = SessionPool::create((*token)->api(), (*token)->slot(), capacity,
                                  std::min(capacity, kPreopenedSessions));
  if (!pool.ok()) return pool.error();
  auto connection = std::make_shared<Connection>();
  connection->token = std::move(*token);
  connection->pool = std::move(*pool);
  connection->generation = generation;
  connection->profile = std::move(*profile);
  return connection;
}

}  // namespace signet::hsm
