// The one place hsm/ includes the PKCS#11 C header, and the translation of its return codes
// (CK_RV) into Signet's Error. Only files in hsm/ include this header: CK_* types stop here.
#pragma once

#include <p11-kit/pkcs11.h>

#include <string>
#include <string_view>

#include "base/result.h"

namespace signet::hsm {

// "CKR_PIN_INCORRECT" for the codes a signing service meets; "CKR_0x000001a0"-style otherwise.
std::string rv_name(CK_RV rv);

// The device, the token or the session is gone or broken: the caller may retry later, so these
// become kHsmUnavailable (503) rather than kInternal (500).
bool is_unavailable(CK_RV rv);

// The module no longer knows this session: drop it and open another.
bool is_session_lost(CK_RV rv);

// "<what> failed (CKR_...)", as kHsmUnavailable for device trouble and kInternal otherwise.
Error rv_error(std::string_view what, CK_RV rv);

}  // namespace signet::hsm
