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

// What a return code says about the connection to the token, which decides how the Hsm recovers
// (hsm/recovery.h). Classes, not codes, so that a vendor's variant of a fault is handled alike.
enum class Fault {
  kNone,         // CKR_OK, or an answer about the request itself (a bad template, say)
  kSessionLost,  // the session is gone: reopen it and retry once
  kStaleHandle,  // an object handle from before a new login: find the object again by CKA_ID
  kLoggedOut,    // the login is gone: log in again
  kDeviceGone,   // the device, the token or the module stopped answering: reconnect, with backoff
  kFull,         // the token has no room (CKR_DEVICE_MEMORY): this write fails, the token is fine
  kBusy,         // every session the token allows is taken: wait, as for a busy pool
  kPinRefused,   // the PIN was refused, is locked or has expired: never tried again
};
Fault classify(CK_RV rv);
std::string_view fault_name(Fault fault);

// "<what> failed (CKR_...)", as kHsmUnavailable for device trouble and kInternal otherwise.
Error rv_error(std::string_view what, CK_RV rv);

}  // namespace signet::hsm
