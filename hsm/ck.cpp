#include "hsm/ck.h"

#include <cstdio>

namespace signet::hsm {

std::string rv_name(CK_RV rv) {
  switch (rv) {
#define SIGNET_CKR(name) \
  case name:             \
    return #name;
    SIGNET_CKR(CKR_OK)
    SIGNET_CKR(CKR_CANCEL)
    SIGNET_CKR(CKR_HOST_MEMORY)
    SIGNET_CKR(CKR_SLOT_ID_INVALID)
    SIGNET_CKR(CKR_GENERAL_ERROR)
    SIGNET_CKR(CKR_FUNCTION_FAILED)
    SIGNET_CKR(CKR_ARGUMENTS_BAD)
    SIGNET_CKR(CKR_CANT_LOCK)
    SIGNET_CKR(CKR_ATTRIBUTE_READ_ONLY)
    SIGNET_CKR(CKR_ATTRIBUTE_SENSITIVE)
    SIGNET_CKR(CKR_ATTRIBUTE_TYPE_INVALID)
    SIGNET_CKR(CKR_ATTRIBUTE_VALUE_INVALID)
    SIGNET_CKR(CKR_ACTION_PROHIBITED)
    SIGNET_CKR(CKR_DATA_INVALID)
    SIGNET_CKR(CKR_DATA_LEN_RANGE)
    SIGNET_CKR(CKR_DEVICE_ERROR)
    SIGNET_CKR(CKR_DEVICE_MEMORY)
    SIGNET_CKR(CKR_DEVICE_REMOVED)
    SIGNET_CKR(CKR_FUNCTION_CANCELED)
    SIGNET_CKR(CKR_FUNCTION_NOT_SUPPORTED)
    SIGNET_CKR(CKR_KEY_HANDLE_INVALID)
    SIGNET_CKR(CKR_KEY_SIZE_RANGE)
    SIGNET_CKR(CKR_KEY_TYPE_INCONSISTENT)
    SIGNET_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED)
    SIGNET_CKR(CKR_MECHANISM_INVALID)
    SIGNET_CKR(CKR_MECHANISM_PARAM_INVALID)
    SIGNET_CKR(CKR_OBJECT_HANDLE_INVALID)
    SIGNET_CKR(CKR_OPERATION_ACTIVE)
    SIGNET_CKR(CKR_OPERATION_NOT_INITIALIZED)
    SIGNET_CKR(CKR_PIN_INCORRECT)
    SIGNET_CKR(CKR_PIN_INVALID)
    SIGNET_CKR(CKR_PIN_LEN_RANGE)
    SIGNET_CKR(CKR_PIN_EXPIRED)
    SIGNET_CKR(CKR_PIN_LOCKED)
    SIGNET_CKR(CKR_SESSION_CLOSED)
    SIGNET_CKR(CKR_SESSION_COUNT)
    SIGNET_CKR(CKR_SESSION_HANDLE_INVALID)
    SIGNET_CKR(CKR_SESSION_PARALLEL_NOT_SUPPORTED)
    SIGNET_CKR(CKR_SESSION_READ_ONLY)
    SIGNET_CKR(CKR_SESSION_EXISTS)
    SIGNET_CKR(CKR_SIGNATURE_INVALID)
    SIGNET_CKR(CKR_SIGNATURE_LEN_RANGE)
    SIGNET_CKR(CKR_TEMPLATE_INCOMPLETE)
    SIGNET_CKR(CKR_TEMPLATE_INCONSISTENT)
    SIGNET_CKR(CKR_TOKEN_NOT_PRESENT)
    SIGNET_CKR(CKR_TOKEN_NOT_RECOGNIZED)
    SIGNET_CKR(CKR_TOKEN_WRITE_PROTECTED)
    SIGNET_CKR(CKR_USER_ALREADY_LOGGED_IN)
    SIGNET_CKR(CKR_USER_NOT_LOGGED_IN)
    SIGNET_CKR(CKR_USER_PIN_NOT_INITIALIZED)
    SIGNET_CKR(CKR_USER_TYPE_INVALID)
    SIGNET_CKR(CKR_USER_ANOTHER_ALREADY_LOGGED_IN)
    SIGNET_CKR(CKR_USER_TOO_MANY_TYPES)
    SIGNET_CKR(CKR_DOMAIN_PARAMS_INVALID)
    SIGNET_CKR(CKR_CURVE_NOT_SUPPORTED)
    SIGNET_CKR(CKR_BUFFER_TOO_SMALL)
    SIGNET_CKR(CKR_RANDOM_NO_RNG)
    SIGNET_CKR(CKR_CRYPTOKI_NOT_INITIALIZED)
    SIGNET_CKR(CKR_CRYPTOKI_ALREADY_INITIALIZED)
    SIGNET_CKR(CKR_MUTEX_BAD)
    SIGNET_CKR(CKR_FUNCTION_REJECTED)
#undef SIGNET_CKR
    default:
      break;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "CKR_0x%08lx", static_cast<unsigned long>(rv));
  return buf;
}

bool is_session_lost(CK_RV rv) {
  return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED;
}

bool is_unavailable(CK_RV rv) {
  switch (rv) {
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_MEMORY:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_GENERAL_ERROR:
    case CKR_FUNCTION_FAILED:
    case CKR_FUNCTION_CANCELED:
    case CKR_HOST_MEMORY:
    case CKR_SESSION_COUNT:
    case CKR_CRYPTOKI_NOT_INITIALIZED:
    // Retryable: the Hsm logs in again by itself (hsm/recovery.h).
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_SLOT_ID_INVALID:
      return true;
    default:
      return is_session_lost(rv);
  }
}

Fault classify(CK_RV rv) {
  switch (rv) {
    case CKR_OK:
      return Fault::kNone;
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
      return Fault::kSessionLost;
    case CKR_OBJECT_HANDLE_INVALID:
    case CKR_KEY_HANDLE_INVALID:
      return Fault::kStaleHandle;
    case CKR_USER_NOT_LOGGED_IN:
      return Fault::kLoggedOut;
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_GENERAL_ERROR:
    case CKR_FUNCTION_FAILED:  // what many modules answer while a network HSM is away
    case CKR_CRYPTOKI_NOT_INITIALIZED:
    case CKR_SLOT_ID_INVALID:
      return Fault::kDeviceGone;
    case CKR_DEVICE_MEMORY:
    case CKR_HOST_MEMORY:
      return Fault::kFull;
    case CKR_SESSION_COUNT:
      return Fault::kBusy;
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
    case CKR_PIN_LOCKED:
    case CKR_PIN_EXPIRED:
    case CKR_USER_PIN_NOT_INITIALIZED:
      return Fault::kPinRefused;
    default:
      return Fault::kNone;
  }
}

std::string_view fault_name(Fault fault) {
  switch (fault) {
    case Fault::kNone: return "none";
    case Fault::kSessionLost: return "session_lost";
    case Fault::kStaleHandle: return "stale_handle";
    case Fault::kLoggedOut: return "logged_out";
    case Fault::kDeviceGone: return "device_gone";
    case Fault::kFull: return "full";
    case Fault::kBusy: return "busy";
    case Fault::kPinRefused: return "pin_refused";
  }
  return "none";
}

Error rv_error(std::string_view what, CK_RV rv) {
  return make_error(is_unavailable(rv) ? Code::kHsmUnavailable : Code::kInternal,
                    std::string(what) + " failed (" + rv_name(rv) + ")");
}

}  // namespace signet::hsm
