// Internal: the checks made after the signature holds: registered claim types, exp/nbf/iat with
// leeway, iss, aud, the header typ and the profile (`type` claim). Pure: time comes in `expect`.
#pragma once

#include "firmware/verify/verifier.h"

namespace signet::verify::internal {

Reason check_claims(const nlohmann::json& header, const nlohmann::json& claims,
                    const Expectations& expect);

}  // namespace signet::verify::internal
