#include "firmware/issuance/issuer.h"

#include <openssl/rand.h>

#include <chrono>

#include "base/json_text.h"
#include "firmware/jose/base64url.h"
#include "firmware/jose/jws.h"

namespace signet::issuance {

std::string new_jti() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  return jose::base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

Result<IssuedToken> Issuer::issue(std::string_view client, const Grant& grant) const {
  // One snapshot for the whole token: header, kid and key handle always belong together.
  const auto snapshot = ring_.snapshot();
  const ring::RingKey* key = snapshot->active();
  if (!key) return make_error(Code::kHsmUnavailable, "the key ring has no active key yet");
  if (!key->in_token) return make_error(Code::kHsmUnavailable, "the token does not show the active key");
  const std::string& typ = grant.typ ? *grant.typ : grant.profile->typ;
  const std::string* header = snapshot->header_for(typ);
  if (!header) return make_error(Code::kInternal, "no header rendered for typ \"" + typ + "\"");
  return sign(client, grant, *key, *header, now_());
}

Result<IssuedToken> Issuer::issue_expired(std::string_view client, const Grant& grant) const {
  const auto snapshot = ring_.snapshot();
  const ring::RingKey* key = snapshot->newest_retiring();
  if (!key) key = snapshot->active();
  if (!key) return make_error(Code::kHsmUnavailable, "the key ring has no active key yet");
  const std::string header = jose::encode_header(key->alg, key->entry.kid, grant.typ ? *grant.typ : grant.profile->typ);
  return sign(client, grant, *key, header, now_() - grant.ttl.count() - 60);
}

Result<IssuedToken> Issuer::sign(std::string_view client, const Grant& grant, const ring::RingKey& key,
                                 const std::string& header, std::int64_t issued_at) const {
  IssuedToken out;
  out.jti = new_jti();
  if (out.jti.empty()) return make_error(Code::kInternal, "the random number generator failed");
  out.kid = key.entry.kid;
  out.issued_at = issued_at;
  out.expires_at = issued_at + grant.ttl.count();

  // The claims written directly (base/json_text.h); a client's own claims never use the names
  // Signet sets (config::is_reserved_claim), so no member is written twice.
  std::string claims;
  claims.reserve(256);
  json_text::Object payload(claims);
  payload.string("iss", issuer_)
      .string("sub", grant.sub)
      .string("aud", grant.aud)
      .number("iat", out.issued_at)
      .number("nbf", out.issued_at)
      .number("exp", out.expires_at)
      .string("jti", out.jti)
      .string("type", grant.profile->name);
  for (const auto& [name, value] : grant.claims.items()) payload.raw(name, value.dump());
  payload.close();
  jose::begin_compact(header, claims, out.token);
  unsigned char signature[512];
  Result<std::size_t> length = std::size_t{0};
  {
    // Only the HSM's work is inside the gate: the claims are built before it, and the ledger's
    // line is written after it (record()). The reservation is inside, so that a refused request
    // neither counts as signed nor uses up the key's token budget.
    auto permit = gate_->enter();
    if (!permit.ok()) return permit.error();
    // Recorded before it is signed: no crash can leave a valid token its key's retirement forgot.
    if (auto reserved = ring_.reserve(key, out.expires_at, grant.ttl.count()); !reserved.ok()) return reserved.error();
    const auto started = std::chrono::steady_clock::now();
    length = hsm_.sign(key.ref, out.token, signature, sizeof signature);
    if (length.ok()) {
      stats_->sign_latency[static_cast<int>(key.alg)].observe(std::chrono::steady_clock::now() - started);
    }
  }
  if (!length.ok()) {
    stats_->hsm_errors.fetch_add(1, std::memory_order_relaxed);
    return length.error();
  }
  jose::finish_compact(std::string_view(reinterpret_cast<const char*>(signature), *length), out.token);
  if (ledger_) {
    audit::Record& line = out.line;
    line.client = std::string(client);
    line.profile = grant.profile->name;
    line.sub = grant.sub;
    line.aud = grant.aud;
    line.kid = out.kid;
    line.jti = out.jti;
    line.exp = out.expires_at;
    line.claims_json = std::move(claims);  // only its digest is written
  }
  return out;
}

void Issuer::record(audit::Record line, std::function<void(const Status&)> done) const {
  ledger_->append(std::move(line), [done = std::move(done)](const Status& written) {
    done(written.ok() ? written : Status(make_error(Code::kAuditUnavailable, written.error().message)));
  });
}

void Issuer::render_metrics(std::string& out) const {
  out += "# TYPE signet_sign_seconds histogram\n";
  // Only the algorithms in use get series: those of published keys, and any that signed before.
  bool in_use[4] = {false, false, false, false};
  for (const auto& key : ring_.snapshot()->keys) in_use[static_cast<int>(key.alg)] = true;
  for (jose::Alg alg : {jose::Alg::kRS256, jose::Alg::kPS256, jose::Alg::kES256, jose::Alg::kEdDSA}) {
    if (!in_use[static_cast<int>(alg)] && stats_->sign_latency[static_cast<int>(alg)].count() == 0) continue;
    const std::string labels = "alg=\"" + std::string(jose::alg_name(alg)) + "\"";
    stats_->sign_latency[static_cast<int>(alg)].render("signet_sign_seconds", labels, out);
  }
  out += "# TYPE signet_hsm_errors_total counter\nsignet_hsm_errors_total " +
         std::to_string(stats_->hsm_errors.load(std::memory_order_relaxed)) + "\n";
  gate_->render_metrics(out);
}

}  // namespace signet::issuance
