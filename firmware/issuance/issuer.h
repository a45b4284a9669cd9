// The Issuer turns a Grant into a signed JWS: claims from the server's clock and the grant,
// the active key's pre-encoded header, and a signature made inside the HSM.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <functional>
#include <string>

#include "base/histogram.h"
#include "base/result.h"
#include "firmware/audit/ledger.h"
#include "firmware/issuance/policy.h"
#include "firmware/issuance/signing_gate.h"
#include "firmware/ring/key_ring.h"
#include "hsm/hsm.h"

namespace signet::issuance {

struct IssuedToken {
  std::string token;
  std::string kid;
  std::string jti;
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
  audit::Record line;  // its audit ledger line, which record() writes
};

class Issuer {
 public:
  using WallClock = std::function<std::int64_t()>;  // Unix seconds

  // ledger may be null (no audit.file): then tokens are issued without a record. gate bounds
  // the signatures in the HSM at once and the callers waiting for one (signing_gate.h).
  Issuer(std::string issuer, ring::KeyRing& ring, hsm::Hsm& hsm, audit::Ledger* ledger, WallClock now,
         SigningGate::Options gate)
      : issuer_(std::move(issuer)), ring_(ring), hsm_(hsm), ledger_(ledger), now_(std::move(now)),
        gate_(std::make_unique<SigningGate>(gate)) {}

  // Signs with the active key, once the token records that a token with this exp may exist.
  // Errors: kHsmUnavailable when the token cannot sign or record now, or the ring has no
  // active key yet; kOverloaded when the signing gate refuses (queue full, or its deadline).
  // With a ledger (records()), the token may be handed out only once record() said its line
  // is durable.
  Result<IssuedToken> issue(std::string_view client, const Grant& grant) const;
  // A token that expired a minute ago, signed by the newest retiring key (the active one
  // while none retires): what relying parties need to test their rejection of old tokens.
  Result<IssuedToken> issue_expired(std::string_view client, const Grant& grant) const;

  // Whether tokens wait for their audit ledger line (audit.file is set).
  bool records() const { return ledger_ != nullptr; }
  // Queues a token's ledger line (IssuedToken::line) without waiting; done is told, from the
  // ledger's writer thread (or at once when refused), whether the line is durable, or why not
  // (kAuditUnavailable: the token must then be dropped unseen). Only when records().
  void record(audit::Record line, std::function<void(const Status&)> done) const;

  // Prometheus lines: signing latency per algorithm, HSM errors, the signing gate's queue.
  void render_metrics(std::string& out) const;

 private:
  Result<IssuedToken> sign(std::string_view client, const Grant& grant, const ring::RingKey& key,
                           const std::string& header, std::int64_t issued_at) const;

  struct Stats {
    LatencyHistogram sign_latency[4];  // by jose::Alg
    std::atomic<std::uint64_t> hsm_errors{0};
  };

  std::string issuer_;
  ring::KeyRing& ring_;
  hsm::Hsm& hsm_;
  audit::Ledger* ledger_;
  WallClock now_;
  std::unique_ptr<Stats> stats_ = std::make_unique<Stats>();
  std::unique_ptr<SigningGate> gate_;  // behind a pointer: issue() is const, entering is not
};

// 128 bits from OpenSSL's CSPRNG, base64url (22 characters).
std::string new_jti();

}  // namespace signet::issuance
