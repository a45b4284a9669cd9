// What Hsm's member functions do inside one session, one file each: keygen.cpp, keys.cpp,
// signing.cpp, data_objects.cpp. hsm.cpp lends them a pooled session and retries once in a
// fresh one when the module says the session is gone (SessionRef::lost).
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "hsm/ck.h"
#include "hsm/hsm.h"
#include "hsm/objects.h"

namespace signet::hsm {

inline constexpr std::string_view kKeyLabelPrefix = "signet:";

// How Signet's keys are read in this token: whether it reports CKA_ALLOWED_MECHANISMS (learned
// from the first key read or made, and kept by the Hsm across logins), and which RSA scheme a key
// is read as when it does not (key type alone cannot tell RS256 from PS256).
struct KeyReading {
  std::atomic<Binding>& binding;
  SignScheme unbound_rsa = SignScheme::kRsaPkcs1Sha256;
};

// keygen.cpp
// The locked-down templates of SECURITY.md §2a, for every key Signet makes in the token (the
// ring's signing keys and the TLS key): on the token, frozen, found by CKA_ID and CKA_LABEL; the
// private half sensitive, never extractable, sign-only with one mechanism.
void add_key_identity(Template& t, std::string_view id, std::string_view label);
// mechanism: the one CKA_ALLOWED_MECHANISMS entry; nullopt for a token older than PKCS#11 2.40,
// which refuses that attribute, CKA_COPYABLE and CKA_DESTROYABLE.
void fill_private_key_template(Template& t, std::optional<CK_MECHANISM_TYPE> mechanism, std::string_view id,
                               std::string_view label);
void fill_ec_public_template(Template& t, std::string_view id, std::string_view label, std::string_view ec_params);
// chosen_id: the CKA_ID for both halves; empty: 16 random bytes.
// The new private key must read back as made in the token, always sensitive, never extractable
// and sign-only (CKA_SIGN, no CKA_DECRYPT, CKA_UNWRAP or CKA_DERIVE), or it is destroyed.
Result<KeyInfo> generate_key_pair(SessionRef& session, SignScheme scheme, unsigned rsa_bits,
                                  std::string_view chosen_id, KeyReading& reading);

// keys.cpp
// The KeyInfo of a private key, or nullopt when it is not a complete Signet key pair (label
// outside "signet:", scheme not one of ours, or no public half with its CKA_ID).
Result<std::optional<KeyInfo>> describe_key(SessionRef& session, CK_OBJECT_HANDLE private_key,
                                            KeyReading& reading);
Result<std::vector<KeyInfo>> list_key_pairs(SessionRef& session, KeyReading& reading);
Status destroy_key_pair(SessionRef& session, std::string_view id);
// The private half of the Signet key pair with this CKA_ID, found again after a new login made
// the old handle stale; kNotFound when the token has no such key.
Result<CK_OBJECT_HANDLE> find_private_key(SessionRef& session, std::string_view id);

// signing.cpp
Result<std::size_t> sign_message(SessionRef& session, const KeyRef& key, std::string_view message,
                                 unsigned char* out, std::size_t out_len);

// data_objects.cpp
Result<std::string> read_data_object(SessionRef& session, std::string_view label);
Status write_data_object(SessionRef& session, std::string_view label, std::string_view value);
Result<std::vector<std::string>> read_label_slot_objects(SessionRef& session, std::string_view name);
// What a writer knows of one name's label slots (handles and labels as last seen or written),
// so that a write need not search the token. Handles hold within one connection only.
struct KnownSlots {
  std::uint64_t generation = 0;
  std::vector<std::pair<CK_OBJECT_HANDLE, std::string>> slots;
};
Status write_label_slot_object(SessionRef& session, std::string_view name, std::string_view keep, std::string_view value,
                               KnownSlots& known);
Result<std::vector<std::pair<std::string, std::string>>> list_data_objects(SessionRef& session,
                                                                           std::string_view prefix);
Status destroy_data_objects(SessionRef& session, std::string_view label);

}  // namespace signet::hsm
