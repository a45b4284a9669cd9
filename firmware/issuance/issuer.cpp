#include "firmware/issuance/issuer.h"

#include <openssl/rand.h>

#include "firmware/jose/base64url.h"
#include "firmware/jose/jws.h"

namespace signet::issuance {

std::string new_jti() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  return jose::base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

Result<IssuedToken> Issuer::issue(const Grant& grant) const { return issue_backdated(grant, 0); }

Result<IssuedToken> Issuer::issue_backdated(const Grant& grant, std::int64_t age) const {
  // One snapshot for the whole token: header, kid and key handle always belong together.
  const auto snapshot = ring_.snapshot();
  const ring::RingKey& key = snapshot->active();
  const std::string* header = snapshot->header_for(grant.profile->typ);
  if (!header) return make_error(Code::kInternal, "no header rendered for typ \"" + grant.profile->typ + "\"");

  IssuedToken out;
  out.jti = new_jti();
  if (out.jti.empty()) return make_error(Code::kInternal, "the random number generator failed");
  out.kid = key.entry.kid;
  out.issued_at = now_() - age;
  out.expires_at = out.issued_at + grant.ttl.count();

  nlohmann::ordered_json payload;
  payload["iss"] = issuer_;
  payload["sub"] = grant.sub;
  payload["aud"] = grant.aud;
  payload["iat"] = out.issued_at;
  payload["nbf"] = out.issued_at;
  payload["exp"] = out.expires_at;
  payload["jti"] = out.jti;
  payload["type"] = grant.profile->name;
  for (const auto& [name, value] : grant.claims.items()) payload[name] = value;

  jose::begin_compact(*header, payload.dump(), out.token);
  unsigned char signature[512];
  auto length = hsm_.sign(key.ref, out.token, signature, sizeof signature);
  if (!length.ok()) return length.error();
  jose::finish_compact(std::string_view(reinterpret_cast<const char*>(signature), *length), out.token);
  return out;
}

}  // namespace signet::issuance
