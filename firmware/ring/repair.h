// Repair as a pure decision: how the ring record must change to agree with what a complete,
// logged-in view of the token shows, without ever destroying on doubt. The rotation job's
// lease holder reads the token, asks plan_repair(), and carries out the plan in this order:
// write the record, destroy the interrupted generations, clear the intents.
//
// The rules (docs/API.md, "Key lifecycle"):
//  - a recorded key the token lacks can no longer sign: an active or next one retires, and it
//    stays published from the record's JWK until no token it signed can still be valid;
//  - a key pair no record names is adopted as retiring (published, kept at least a token
//    lifetime), unless an intent written before C_GenerateKeyPair proves it an interrupted
//    generation that never signed, or the record lists it as `destroying` (its destruction was
//    decided and recorded, then interrupted): only then is it destroyed;
//  - a ring left with no active and no next key (its record lost or damaged) takes back, as
//    active, the adopted key that reserved the latest exp (it was signing a moment ago), or the
//    token's only key;
//  - two active keys (a record edited by hand) keep the newer one.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "firmware/ring/lifecycle.h"
#include "firmware/ring/ring_record.h"

namespace signet::ring {

inline constexpr std::string_view kIntentLabelPrefix = "signet:intent:";

// A key pair in the token, as the ring describes it.
struct TokenKey {
  std::string id_hex;
  std::string kid;
  std::string alg;
  std::string jwk;
};

struct RepairPlan {
  RingRecord record;                        // the repaired record
  bool changed = false;                     // it must be written
  std::vector<std::string> destroy;         // id_hex of interrupted generations to destroy
  std::vector<std::string> finish_destroy;  // id_hex of interrupted destructions to finish
  std::vector<std::string> clear_intents;   // id_hex whose intent object is done with
  std::vector<std::string> adopted;         // kids adopted into the record
  std::vector<std::string> lost;            // kids the token lacks, now retiring
  std::string reactivated;                  // kid made active again, if any
};

RepairPlan plan_repair(RingRecord record, const std::vector<TokenKey>& token, const std::set<std::string>& intents,
                       const UsageTotals& usage, std::int64_t now);

}  // namespace signet::ring
