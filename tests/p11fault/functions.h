// The 68 entry points of a PKCS#11 2.40 CK_FUNCTION_LIST, as one X-macro table, and the
// identifiers the fault module derives from it. The table is the only place the names are
// written: the wrappers, the Fn enum, the name strings and the control file's function sets
// are all generated from it, so an entry cannot be wrapped in one place and forgotten in another.
#pragma once

#include <bitset>
#include <cstddef>
#include <optional>
#include <string_view>

// X(name) for every member of CK_FUNCTION_LIST after `version`, in the structure's order.
#define SIGNET_P11FAULT_FUNCTIONS(X) \
  X(C_Initialize)                    \
  X(C_Finalize)                      \
  X(C_GetInfo)                       \
  X(C_GetFunctionList)               \
  X(C_GetSlotList)                   \
  X(C_GetSlotInfo)                   \
  X(C_GetTokenInfo)                  \
  X(C_GetMechanismList)              \
  X(C_GetMechanismInfo)              \
  X(C_InitToken)                     \
  X(C_InitPIN)                       \
  X(C_SetPIN)                        \
  X(C_OpenSession)                   \
  X(C_CloseSession)                  \
  X(C_CloseAllSessions)              \
  X(C_GetSessionInfo)                \
  X(C_GetOperationState)             \
  X(C_SetOperationState)             \
  X(C_Login)                         \
  X(C_Logout)                        \
  X(C_CreateObject)                  \
  X(C_CopyObject)                    \
  X(C_DestroyObject)                 \
  X(C_GetObjectSize)                 \
  X(C_GetAttributeValue)             \
  X(C_SetAttributeValue)             \
  X(C_FindObjectsInit)               \
  X(C_FindObjects)                   \
  X(C_FindObjectsFinal)              \
  X(C_EncryptInit)                   \
  X(C_Encrypt)                       \
  X(C_EncryptUpdate)                 \
  X(C_EncryptFinal)                  \
  X(C_DecryptInit)                   \
  X(C_Decrypt)                       \
  X(C_DecryptUpdate)                 \
  X(C_DecryptFinal)                  \
  X(C_DigestInit)                    \
  X(C_Digest)                        \
  X(C_DigestUpdate)                  \
  X(C_DigestKey)                     \
  X(C_DigestFinal)                   \
  X(C_SignInit)                      \
  X(C_Sign)                          \
  X(C_SignUpdate)                    \
  X(C_SignFinal)                     \
  X(C_SignRecoverInit)               \
  X(C_SignRecover)                   \
  X(C_VerifyInit)                    \
  X(C_Verify)                        \
  X(C_VerifyUpdate)                  \
  X(C_VerifyFinal)                   \
  X(C_VerifyRecoverInit)             \
  X(C_VerifyRecover)                 \
  X(C_DigestEncryptUpdate)           \
  X(C_DecryptDigestUpdate)           \
  X(C_SignEncryptUpdate)             \
  X(C_DecryptVerifyUpdate)           \
  X(C_GenerateKey)                   \
  X(C_GenerateKeyPair)               \
  X(C_WrapKey)                       \
  X(C_UnwrapKey)                     \
  X(C_DeriveKey)                     \
  X(C_SeedRandom)                    \
  X(C_GenerateRandom)                \
  X(C_GetFunctionStatus)             \
  X(C_CancelFunction)                \
  X(C_WaitForSlotEvent)

namespace signet::p11fault {

enum class Fn : std::size_t {
#define SIGNET_P11FAULT_ENUM(name) name,
  SIGNET_P11FAULT_FUNCTIONS(SIGNET_P11FAULT_ENUM)
#undef SIGNET_P11FAULT_ENUM
};

inline constexpr std::size_t kFunctionCount = 0
#define SIGNET_P11FAULT_COUNT(name) +1
    SIGNET_P11FAULT_FUNCTIONS(SIGNET_P11FAULT_COUNT)
#undef SIGNET_P11FAULT_COUNT
    ;

// A set of entry points, indexed by Fn.
using FunctionSet = std::bitset<kFunctionCount>;

// "C_Sign" for Fn::C_Sign.
std::string_view function_name(Fn fn);

// The Fn called `name` (exact spelling), if any.
std::optional<Fn> find_function(std::string_view name);

// What `*` means in the control file: every entry point except the four that set the library
// up (C_GetFunctionList, C_Initialize, C_Finalize, C_GetInfo), which a fault would only make
// impossible to load, not interesting to recover from. They can still be named one by one.
FunctionSet all_faultable_functions();

}  // namespace signet::p11fault
