// The Issuer turns a Grant into a signed JWS: claims from the server's clock and the grant,
// the active key's pre-encoded header, and a signature made inside the HSM.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/result.h"
#include "firmware/issuance/policy.h"
#include "firmware/ring/key_ring.h"
#include "hsm/hsm.h"

namespace signet::issuance {

struct IssuedToken {
  std::string token;
  std::string kid;
  std::string jti;
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
};

class Issuer {
 public:
  using WallClock = std::function<std::int64_t()>;  // Unix seconds

  Issuer(std::string issuer, const ring::KeyRing& ring, hsm::Hsm& hsm, WallClock now)
      : issuer_(std::move(issuer)), ring_(ring), hsm_(hsm), now_(std::move(now)) {}

  // Signs with the active key. Errors: kHsmUnavailable when the token cannot sign now.
  Result<IssuedToken> issue(const Grant& grant) const;
  // The same with iat/nbf/exp placed `age` seconds in the past (expired test tokens).
  Result<IssuedToken> issue_backdated(const Grant& grant, std::int64_t age) const;

 private:
  std::string issuer_;
  const ring::KeyRing& ring_;
  hsm::Hsm& hsm_;
  WallClock now_;
};

// 128 bits from OpenSSL's CSPRNG, base64url (22 characters).
std::string new_jti();

}  // namespace signet::issuance
