// The lease: which replica may change the ring. PKCS#11 offers no compare-and-set, so the lease
// is built from what it does offer, objects that every session sees once created:
//
//   each replica claims with an object of its own ("signet:lease:<replica>": claimed_at, until);
//   a claimant waits a settle time longer than any object creation takes, reads every claim
//   again, and the unexpired claim with the earliest (claimed_at, replica) holds the lease.
//
// Two replicas that claim at once both see both claims after settling and agree on the winner;
// a replica that claims later sees the earlier holder's live claim and withdraws. The holder
// renews before `until`; a holder that stops renewing (crash, hang) loses the lease when it
// expires. Times are wall-clock milliseconds, shared by the replicas on one host or one HSM.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/result.h"
#include "firmware/ring/clock.h"
#include "hsm/hsm.h"

namespace signet::ring {

inline constexpr std::string_view kLeaseLabelPrefix = "signet:lease:";

class Lease {
 public:
  // clock: what waits out the settle time.
  Lease(hsm::Hsm& hsm, Clock& clock, std::string replica, std::chrono::milliseconds ttl, std::chrono::milliseconds settle)
      : hsm_(hsm), clock_(clock), replica_(std::move(replica)), ttl_(ttl), settle_(settle) {}

  // Holds or takes the lease, renewing it; false when another replica holds it.
  Result<bool> hold(std::int64_t now_ms);
  // Whether this replica's lease is still valid for at least `margin` from now.
  bool valid(std::int64_t now_ms, std::chrono::milliseconds margin) const;
  // Gives the lease up (at shutdown), so that another replica need not wait for it to expire.
  void release();
  // Destroys the claims of other replicas that ended long ago (a replica id is new at every
  // start, so without this each restart would leave an object behind in the token).
  void collect_stale_claims(std::int64_t now_ms);

 private:
  struct Claim {
    std::string replica;
    std::int64_t claimed_at = 0;
    std::int64_t until = 0;
  };
  Result<std::vector<Claim>> read_claims();
  Status write_claim(std::int64_t claimed_at, std::int64_t until);
  static const Claim* winner(const std::vector<Claim>& claims, std::int64_t now_ms);

  hsm::Hsm& hsm_;
  Clock& clock_;
  std::string replica_;
  std::chrono::milliseconds ttl_;
  std::chrono::milliseconds settle_;
  std::int64_t claimed_at_ = 0;  // 0 while not holding
  std::int64_t until_ = 0;
};

}  // namespace signet::ring
