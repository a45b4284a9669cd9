// What a vendor's token offers, asked once per login: which of Signet's signing schemes it has the
// mechanisms for, and the limits it reports. Tokens differ here (a remoted module hides the
// mechanisms it cannot carry, a TPM has no EdDSA), so Signet asks instead of assuming SoftHSM2.
#pragma once

#include <optional>
#include <string_view>

#include "base/result.h"
#include "hsm/ck.h"
#include "hsm/hsm.h"

namespace signet::hsm {

// The mechanism a scheme signs with, and the one that makes its key pairs.
CK_MECHANISM_TYPE sign_mechanism(SignScheme scheme);
CK_MECHANISM_TYPE generation_mechanism(SignScheme scheme);
bool is_rsa(SignScheme scheme);
// "CKM_EDDSA" for the mechanisms above, "CKM_0x..." otherwise.
std::string mechanism_name(CK_MECHANISM_TYPE mechanism);

// C_GetTokenInfo and the mechanisms of the four schemes. A mechanism the token does not list, or
// lists without the CKF_SIGN / CKF_GENERATE_KEY_PAIR flag, counts as missing. Errors are the
// C_GetMechanismList or C_GetTokenInfo failures (rv_error).
Result<TokenProfile> probe_token(const CK_FUNCTION_LIST& api, CK_SLOT_ID slot);

// The hsm_token_profile log line, at every login: an operator sees which schemes this token can
// serve and the limits it announces before any key is made.
void log_token_profile(std::string_view token, const TokenProfile& profile);

// kHsmModule naming the scheme and the missing mechanism when the profile lacks `scheme`.
Status require_scheme(const TokenProfile& profile, std::string_view token, SignScheme scheme);

}  // namespace signet::hsm
