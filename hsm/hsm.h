// The PKCS#11 boundary of Signet: the only code that sees CK_* types.
//
// An Hsm loads a vendor's PKCS#11 module, logs in to one token once, and then generates,
// lists, uses and destroys Signet's signing keys inside that token. Private keys are born in
// the token (CKA_SENSITIVE, not CKA_EXTRACTABLE, sign-only, bound to one mechanism) and no
// function here can return private key material: only handles and public halves leave.
// All member functions are safe to call from many threads at once; sign() takes no global lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/secret.h"

namespace signet::hsm {

// What a key signs with; fixed when the key is generated (CKA_ALLOWED_MECHANISMS).
enum class SignScheme {
  kRsaPkcs1Sha256,  // CKM_SHA256_RSA_PKCS (JWS RS256)
  kRsaPssSha256,    // CKM_SHA256_RSA_PKCS_PSS, MGF1-SHA256, salt 32 (JWS PS256)
  kEcdsaP256Sha256, // SHA-256 in software, then CKM_ECDSA: 64 bytes r||s (JWS ES256)
  kEd25519,         // CKM_EDDSA (JWS EdDSA)
};

// The JWS name of the scheme ("RS256", "PS256", "ES256", "EdDSA"), for logs and errors.
std::string_view scheme_name(SignScheme scheme);

// A reference to a private key usable for sign(). Only valid for the Hsm that made it. A token
// that lost our login (a reboot, a network HSM that dropped us) hands out new object handles
// after the next login, so the reference also carries the key's CKA_ID and the login
// generation its handle belongs to: sign() finds the key again by id when they differ.
struct KeyRef {
  std::uint64_t handle = 0;
  SignScheme scheme = SignScheme::kRsaPkcs1Sha256;
  std::string id;                // CKA_ID
  std::uint64_t generation = 0;  // Hsm::health().generation when the handle was read
};

// A Signet key pair in the token: its identity, its public half and the token's evidence
// that the private half was generated there and never left.
struct KeyInfo {
  std::string id;     // CKA_ID of both halves (16 random bytes)
  std::string label;  // CKA_LABEL, "signet:" + lowercase hex of id
  SignScheme scheme = SignScheme::kRsaPkcs1Sha256;
  KeyRef ref;
  // Public half, as unsigned big-endian bytes without leading zero bytes for RSA.
  std::string rsa_modulus;
  std::string rsa_public_exponent;
  std::string ec_x;  // P-256: exactly 32 bytes
  std::string ec_y;  // P-256: exactly 32 bytes
  std::string ed25519_public;  // exactly 32 bytes
  // Read back from the private key after generation and at every listing.
  bool local = false;
  bool always_sensitive = false;
  bool never_extractable = false;
  // CKA_ALLOWED_MECHANISMS read back as exactly the scheme's one mechanism: the token itself
  // refuses any other use of the key. False when the token does not report it (hsm/capabilities.h);
  // the scheme is then the one Signet's own code signs with, not the token's promise.
  bool mechanism_bound = false;
};

// Whether the token takes and reports CKA_ALLOWED_MECHANISMS of Signet's keys (learned from the
// first key read or made): a token that does not report it may still keep it, but cannot show it.
enum class Binding {
  kUnknown,      // no Signet key read yet
  kEnforced,     // read back as the one mechanism Signet set
  kNotReported,  // C_GetAttributeValue refused it: not counted as enforced
  kNotAccepted,  // C_GenerateKeyPair refused it (CKR_ATTRIBUTE_TYPE_INVALID): keys are made without
};

// What the token is and offers, probed at every login (C_GetTokenInfo, C_GetMechanismList,
// C_GetMechanismInfo), and which of Signet's promises the token keeps itself.
struct TokenProfile {
  std::string manufacturer;  // CK_TOKEN_INFO, spaces trimmed
  std::string model;
  std::vector<SignScheme> schemes;   // those whose signing and key-generation mechanisms it has
  std::vector<std::string> missing;  // the others, e.g. "EdDSA: CKM_EDDSA, CKM_EC_EDWARDS_KEY_PAIR_GEN"
  std::uint64_t max_sessions = 0;    // 0: the token reports no limit
  std::uint64_t max_rw_sessions = 0;
  std::optional<std::uint64_t> free_public_memory;  // bytes, when the token reports them
  std::optional<std::uint64_t> free_private_memory;
  Binding allowed_mechanisms = Binding::kUnknown;
};

// One promise and who keeps it: the token (checked by reading the key back), or nobody but
// Signet's own code. Signet does not run where a promise cannot be kept at all (a private key
// that is not sensitive, not sign-only, extractable, or made outside the token).
struct Guarantee {
  std::string_view name;  // "sensitive", "never_extractable", "local", "sign_only", "allowed_mechanisms"
  bool by_token = false;
};
std::vector<Guarantee> guarantees(const TokenProfile& profile);
std::string_view binding_name(Binding binding);

// Where the PIN comes from each time the token needs a login: the first one, and every one
// after the token lost the login. Called from the recovery thread only.
using PinSource = std::function<Result<SecretString>()>;

// How the token is doing as this layer sees it. "Recovering" is never "empty": while it lasts,
// every operation fails fast with kHsmUnavailable, so no caller mistakes an unseen key or
// record for an absent one.
enum class Health {
  kReady,       // logged in, operations run
  kRecovering,  // the token, a session or the login was lost; reconnecting with backoff
  kFailed,      // cannot recover without an operator (the PIN was refused or is locked)
};

struct HealthReport {
  Health state = Health::kReady;
  std::string reason;                 // why not ready; never a secret
  std::uint64_t generation = 1;       // the login generation: +1 at every recovery
  std::uint64_t recoveries = 0;       // successful reconnections since start
  std::uint64_t faults = 0;           // operations that failed with a token fault
  std::int64_t last_signature_ms = 0; // wall clock of the last good signature, 0 if none
  bool signed_since_recovery = false; // a signature has worked in the current generation
  long retry_after_seconds = 0;       // while recovering: when the next attempt is due
};

std::string_view health_name(Health health);

struct Options {
  std::string module_path;  // e.g. /usr/lib/softhsm/libsofthsm2.so
  std::string token_label;  // with token_serial and slot_id below: every one set must match
  SecretString pin;  // the first login's PIN, wiped once used; empty: ask pin_source
  // Every later login: after a reboot of the token, or a first login that open() could not
  // make. Without it, a lost login cannot be recovered and the Hsm reports kFailed.
  PinSource pin_source{};
  std::size_t max_sessions = 32;  // sessions in the pool, capped by the token's ulMaxSessionCount
  // Start even when the token is absent or failing (kHsmUnavailable, kHsmTokenNotFound): open()
  // then answers an Hsm that is kRecovering and logs in as soon as the token answers. A module
  // that does not load, or a refused PIN, still fails open().
  bool wait_for_token = false;
  // The scheme new keys are made for (keys.algorithm). A token without its mechanisms is refused
  // (kHsmModule, naming the mechanism); an RSA key whose binding the token does not report is
  // read as this scheme when it is RS256 or PS256 (RS256 otherwise).
  std::optional<SignScheme> scheme{};
  // More of what selects the token (hsm.uri). Initialized here, so that designated
  // initializers that name only the label stay complete (-Wmissing-field-initializers).
  std::string token_serial{};
  std::optional<std::uint64_t> slot_id{};
};

class Hsm {
 public:
  // Loads the module (dlopen + C_GetFunctionList), C_Initialize with CKF_OS_LOCKING_OK, finds
  // the token by label, checks the PIN flags, logs in once as CKU_USER and wipes the PIN.
  // Errors: kHsmModule (not loadable), kHsmTokenNotFound, kHsmPin (incorrect, locked, expired;
  // never retried), kHsmUnavailable (device errors). Messages never contain the PIN.
  //
  // Afterwards the Hsm rides out faults by itself (hsm/recovery.h): a lost session is reopened
  // and the operation retried once; a lost login, a device error or a vanished token puts it in
  // kRecovering, where a background thread reconnects with backoff and jitter (re-finding the
  // token, logging in with the PIN from pin_source, reopening the pool) while every operation
  // fails fast with kHsmUnavailable. A refused PIN is never tried twice: kFailed.
  static Result<std::unique_ptr<Hsm>> open(Options options);

  virtual ~Hsm() = default;

  // Generates a key pair in the token for the scheme (rsa_bits >= 2048 for RSA schemes) with
  // the given CKA_ID (16 random bytes when empty), then reads back CKA_LOCAL,
  // CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE and destroys and refuses a key that fails any
  // of them. A caller that chooses the id can record its intent in the token first.
  virtual Result<KeyInfo> generate_key(SignScheme scheme, unsigned rsa_bits, std::string_view id) = 0;
  Result<KeyInfo> generate_key(SignScheme scheme, unsigned rsa_bits) { return generate_key(scheme, rsa_bits, {}); }

  // Every Signet key pair in the token (private keys labelled "signet:*" with a public half).
  // Only ever a complete view: an answer is made by a logged-in session that was still logged in
  // after it, so a key missing from it is absent from the token, not merely unseen.
  virtual Result<std::vector<KeyInfo>> list_keys() = 0;

  // Destroys both halves of the key with this CKA_ID. Destroying an absent key is not an error.
  virtual Status destroy_key(std::string_view id) = 0;

  // Signs message with the key into out (at least 512 bytes) and answers the signature length.
  // ECDSA signatures are always exactly 64 bytes (r||s, each left-padded to 32).
  // Errors: kHsmUnavailable (with retry_after_seconds) for device, session or login trouble and
  // while recovering, kInternal for anything else. A session the module lost is reopened and the
  // sign retried once; a stale key handle is looked up again by the key's CKA_ID.
  virtual Result<std::size_t> sign(const KeyRef& key, std::string_view message,
                                   unsigned char* out, std::size_t out_len) = 0;

  // A token data object (CKO_DATA, CKA_TOKEN, CKA_PRIVATE) found by its CKA_LABEL: the place for
  // small records that must live with the keys. read_data answers kNotFound when absent.
  // write_data takes values up to 64 KiB (kInvalidArgument above) and creates the new object
  // before destroying the old one(s), so a crash in between leaves both; on a full token
  // (CKR_DEVICE_MEMORY) it destroys the old one(s) first to make room, so that the records
  // issuance needs keep working when nothing new fits. read_data then answers
  // the greatest value in byte order, the same in every process: a record that starts with a
  // fixed-width big-endian sequence number reads as the newest. The next write removes both.
  virtual Result<std::string> read_data(std::string_view label) = 0;
  virtual Status write_data(std::string_view label, std::string_view value) = 0;
  // A value kept in the CKA_LABEL of one of two data objects whose CKA_APPLICATION is name,
  // updated in place with C_SetAttributeValue: CKA_LABEL is the attribute of a data object that
  // PKCS#11 lets one modify, and an update in place costs a token neither new objects nor the
  // memory that SoftHSM2's file store keeps for every object it ever held. read answers every
  // slot's label (none before the first write); write overwrites a slot other than the one that
  // holds keep, so a write torn by a crash leaves keep intact. A token that will not modify or
  // hold such a label answers kPermissionDenied.
  virtual Result<std::vector<std::string>> read_label_slots(std::string_view name) = 0;
  virtual Status write_label_slot(std::string_view name, std::string_view keep, std::string_view value) = 0;
  // Every data object whose label starts with prefix, as (label, value), one per label (the
  // greatest value, as read_data picks), sorted by label.
  virtual Result<std::vector<std::pair<std::string, std::string>>> list_data(std::string_view prefix) = 0;
  // Destroys every data object with this label; an absent one is not an error.
  virtual Status destroy_data(std::string_view label) = 0;

  // Whether the token still answers (used by /readyz): kHsmUnavailable while recovering.
  virtual Status check_health() = 0;

  // The state of the connection to the token, for /readyz and /metrics.
  virtual HealthReport health() const { return {}; }
  // Called (from the recovery thread) after each successful reconnection, when handles read
  // before it are stale and whatever else holds token objects must look them up again. Set once,
  // before the Hsm is shared.
  virtual void on_recovered(std::function<void()> listener) { static_cast<void>(listener); }

  // How many operations can run in the token at once: the session pool's size (Options::
  // max_sessions, capped by the token's own session limit). 0 when unknown (test doubles).
  virtual std::size_t session_capacity() const { return 0; }

  // What the token offers and enforces (see TokenProfile); empty before the first login.
  virtual TokenProfile token_profile() const { return {}; }
};

// Reads the PIN from a file that must be a regular file not readable or writable by group or
// others (mode 0600 or 0400), or from an environment variable. Exactly one of the two is set.
// Trailing newlines are stripped. Errors name the file or variable, never the PIN.
Result<SecretString> read_pin(const std::string& pin_file, const std::string& pin_env);

// The PIN source signetd gives the Hsm (Options::pin_source), checked once now: a pin_file is
// read again at each login; a pin_env value is moved into locked, non-dumpable memory and
// removed from the process's environment (hsm/pin_source.cpp says why).
Result<PinSource> open_pin_source(const std::string& pin_file, const std::string& pin_env);

}  // namespace signet::hsm
