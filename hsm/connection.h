// One login to the token and the session pool that works in it: the part of an Hsm that is
// replaced whole when the token loses our sessions or our login (a reboot, a network HSM that
// dropped the connection). Operations hold a shared_ptr to the Connection they run in, so a
// replaced one closes its sessions only when its last operation has returned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "base/result.h"
#include "base/secret.h"
#include "hsm/hsm.h"
#include "hsm/module.h"
#include "hsm/session_pool.h"
#include "hsm/token.h"

namespace signet::hsm {

struct Connection {
  // The token first, so that it is destroyed last: the pool's sessions close, then the login
  // session (and, for the last Token of this process on the slot, the login) goes.
  std::unique_ptr<Token> token;
  std::unique_ptr<SessionPool> pool;
  std::uint64_t generation = 0;  // handles read in this connection carry it (KeyRef)
  TokenProfile profile;          // probed at this login (hsm/capabilities.h)
};

// Finds the selected token, logs in with pin (wiped), probes what it offers and opens the pool
// with a few sessions, so that a token that cannot serve fails here rather than at the first
// signature. Errors as Token::open and SessionPool::create, and kHsmModule when the token lacks
// the mechanisms of `scheme`.
Result<std::shared_ptr<Connection>> connect(std::shared_ptr<Module> module, const TokenSelector& selector,
                                            SecretString& pin, std::size_t max_sessions,
                                            std::uint64_t generation,
                                            std::optional<SignScheme> scheme);

}  // namespace signet::hsm
