// The CKR_ name table behind rv_names.h, one X-macro list of the 2.40 header's codes.
#include "tests/p11fault/rv_names.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <algorithm>

// X(code) for every CKR_ code of PKCS#11 2.40 (CKR_VENDOR_DEFINED is a range, not a code).
#define SIGNET_P11FAULT_RV_CODES(X) \
  X(CKR_OK) \
  X(CKR_CANCEL) \
  X(CKR_HOST_MEMORY) \
  X(CKR_SLOT_ID_INVALID) \
  X(CKR_GENERAL_ERROR) \
  X(CKR_FUNCTION_FAILED) \
  X(CKR_ARGUMENTS_BAD) \
  X(CKR_NO_EVENT) \
  X(CKR_NEED_TO_CREATE_THREADS) \
  X(CKR_CANT_LOCK) \
  X(CKR_ATTRIBUTE_READ_ONLY) \
  X(CKR_ATTRIBUTE_SENSITIVE) \
  X(CKR_ATTRIBUTE_TYPE_INVALID) \
  X(CKR_ATTRIBUTE_VALUE_INVALID) \
  X(CKR_ACTION_PROHIBITED) \
  X(CKR_DATA_INVALID) \
  X(CKR_DATA_LEN_RANGE) \
  X(CKR_DEVICE_ERROR) \
  X(CKR_DEVICE_MEMORY) \
  X(CKR_DEVICE_REMOVED) \
  X(CKR_ENCRYPTED_DATA_INVALID) \
  X(CKR_ENCRYPTED_DATA_LEN_RANGE) \
  X(CKR_FUNCTION_CANCELED) \
  X(CKR_FUNCTION_NOT_PARALLEL) \
  X(CKR_FUNCTION_NOT_SUPPORTED) \
  X(CKR_KEY_HANDLE_INVALID) \
  X(CKR_KEY_SIZE_RANGE) \
  X(CKR_KEY_TYPE_INCONSISTENT) \
  X(CKR_KEY_NOT_NEEDED) \
  X(CKR_KEY_CHANGED) \
  X(CKR_KEY_NEEDED) \
  X(CKR_KEY_INDIGESTIBLE) \
  X(CKR_KEY_FUNCTION_NOT_PERMITTED) \
  X(CKR_KEY_NOT_WRAPPABLE) \
  X(CKR_KEY_UNEXTRACTABLE) \
  X(CKR_MECHANISM_INVALID) \
  X(CKR_MECHANISM_PARAM_INVALID) \
  X(CKR_OBJECT_HANDLE_INVALID) \
  X(CKR_OPERATION_ACTIVE) \
  X(CKR_OPERATION_NOT_INITIALIZED) \
  X(CKR_PIN_INCORRECT) \
  X(CKR_PIN_INVALID) \
  X(CKR_PIN_LEN_RANGE) \
  X(CKR_PIN_EXPIRED) \
  X(CKR_PIN_LOCKED) \
  X(CKR_SESSION_CLOSED) \
  X(CKR_SESSION_COUNT) \
  X(CKR_SESSION_HANDLE_INVALID) \
  X(CKR_SESSION_PARALLEL_NOT_SUPPORTED) \
  X(CKR_SESSION_READ_ONLY) \
  X(CKR_SESSION_EXISTS) \
  X(CKR_SESSION_READ_ONLY_EXISTS) \
  X(CKR_SESSION_READ_WRITE_SO_EXISTS) \
  X(CKR_SIGNATURE_INVALID) \
  X(CKR_SIGNATURE_LEN_RANGE) \
  X(CKR_TEMPLATE_INCOMPLETE) \
  X(CKR_TEMPLATE_INCONSISTENT) \
  X(CKR_TOKEN_NOT_PRESENT) \
  X(CKR_TOKEN_NOT_RECOGNIZED) \
  X(CKR_TOKEN_WRITE_PROTECTED) \
  X(CKR_UNWRAPPING_KEY_SIZE_RANGE) \
  X(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT) \
  X(CKR_USER_ALREADY_LOGGED_IN) \
  X(CKR_USER_NOT_LOGGED_IN) \
  X(CKR_USER_PIN_NOT_INITIALIZED) \
  X(CKR_USER_TYPE_INVALID) \
  X(CKR_USER_ANOTHER_ALREADY_LOGGED_IN) \
  X(CKR_USER_TOO_MANY_TYPES) \
  X(CKR_WRAPPED_KEY_INVALID) \
  X(CKR_WRAPPED_KEY_LEN_RANGE) \
  X(CKR_WRAPPING_KEY_HANDLE_INVALID) \
  X(CKR_WRAPPING_KEY_SIZE_RANGE) \
  X(CKR_WRAPPING_KEY_TYPE_INCONSISTENT) \
  X(CKR_RANDOM_SEED_NOT_SUPPORTED) \
  X(CKR_RANDOM_NO_RNG) \
  X(CKR_DOMAIN_PARAMS_INVALID) \
  X(CKR_CURVE_NOT_SUPPORTED) \
  X(CKR_BUFFER_TOO_SMALL) \
  X(CKR_SAVED_STATE_INVALID) \
  X(CKR_INFORMATION_SENSITIVE) \
  X(CKR_STATE_UNSAVEABLE) \
  X(CKR_CRYPTOKI_NOT_INITIALIZED) \
  X(CKR_CRYPTOKI_ALREADY_INITIALIZED) \
  X(CKR_MUTEX_BAD) \
  X(CKR_MUTEX_NOT_LOCKED) \
  X(CKR_NEW_PIN_MODE) \
  X(CKR_NEXT_OTP) \
  X(CKR_EXCEEDED_MAX_ITERATIONS) \
  X(CKR_FIPS_SELF_TEST_FAILED) \
  X(CKR_LIBRARY_LOAD_FAILED) \
  X(CKR_PIN_TOO_WEAK) \
  X(CKR_PUBLIC_KEY_INVALID) \
  X(CKR_FUNCTION_REJECTED)

namespace signet::p11fault {
namespace {

struct NamedRv {
  CK_RV rv;
  std::string_view name;
};

constexpr std::array kCodes = {
#define SIGNET_P11FAULT_NAMED_RV(code) NamedRv{code, #code},
    SIGNET_P11FAULT_RV_CODES(SIGNET_P11FAULT_NAMED_RV)
#undef SIGNET_P11FAULT_NAMED_RV
};

}  // namespace

std::string_view rv_name(CK_RV rv) {
  for (const NamedRv& code : kCodes) {
    if (code.rv == rv) return code.name;
  }
  return {};
}

std::size_t format_rv(CK_RV rv, char* out, std::size_t size) {
  if (size == 0) return 0;
  std::string_view name = rv_name(rv);
  int written = name.empty()
                    ? std::snprintf(out, size, "0x%lx", static_cast<unsigned long>(rv))
                    : std::snprintf(out, size, "%.*s", static_cast<int>(name.size()), name.data());
  if (written < 0) return 0;
  return std::min(static_cast<std::size_t>(written), size - 1);
}

std::optional<CK_RV> parse_rv(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) {
    std::string_view digits = text.substr(2);
    unsigned long value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      return std::nullopt;
    }
    return static_cast<CK_RV>(value);
  }
  for (const NamedRv& code : kCodes) {
    if (code.name == text) return code.rv;
  }
  return std::nullopt;
}

}  // namespace signet::p11fault
