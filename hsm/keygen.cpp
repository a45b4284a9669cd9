// Key pair generation with the locked-down templates of SECURITY.md §2a, and the check that
// the token vouches for the result (CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE).
#include <openssl/rand.h>

#include <optional>

#include "base/hex.h"
#include "hsm/capabilities.h"
#include "hsm/encoding.h"
#include "hsm/operations.h"

namespace signet::hsm {
namespace {

constexpr std::size_t kIdSize = 16;
// The smallest RSA modulus RFC 7518 §3.3 allows, and the largest whose signature fits the
// 512-byte buffer sign() promises to be enough.
constexpr unsigned kMinRsaBits = 2048;
constexpr unsigned kMaxRsaBits = 4096;

void fill_public(Template& t, SignScheme scheme, std::string_view id, std::string_view label,
                 unsigned rsa_bits, std::string_view ec_params) {
  if (!is_rsa(scheme)) {
    fill_ec_public_template(t, id, label, ec_params);
    return;
  }
  add_key_identity(t, id, label);
  static constexpr char kF4[] = "\x01\x00\x01";  // 65537
  // No CKA_VERIFY or CKA_ENCRYPT, as in fill_ec_public_template: tpm2-pkcs11 refuses either when
  // it differs from the TPM object's own.
  t.add_bool(CKA_PRIVATE, false)
      .add_bool(CKA_WRAP, false)
      .add_ulong(CKA_MODULUS_BITS, rsa_bits)
      .add_bytes(CKA_PUBLIC_EXPONENT, std::string_view(kF4, 3));
}

struct Pair {
  CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE private_key = CK_INVALID_HANDLE;
};

CK_RV generate(SessionRef& session, SignScheme scheme, std::string_view id, std::string_view label,
               unsigned rsa_bits, std::string_view ec_params, bool bind, Pair& pair) {
  Template public_template;
  Template private_template;
  fill_public(public_template, scheme, id, label, rsa_bits, ec_params);
  fill_private_key_template(private_template, bind ? std::optional(sign_mechanism(scheme)) : std::nullopt, id, label);
  CK_MECHANISM mechanism{generation_mechanism(scheme), nullptr, 0};
  return session.api.C_GenerateKeyPair(session.handle, &mechanism, public_template.data(),
                                       public_template.size(), private_template.data(),
                                       private_template.size(), &pair.public_key,
                                       &pair.private_key);
}

bool curve_refused(CK_RV rv) {
  return rv == CKR_ATTRIBUTE_VALUE_INVALID || rv == CKR_CURVE_NOT_SUPPORTED ||
         rv == CKR_DOMAIN_PARAMS_INVALID || rv == CKR_TEMPLATE_INCONSISTENT;
}

// Sign-only: the token must say it signs and does nothing else. An attribute the token does not
// have for this key type (CKR_ATTRIBUTE_TYPE_INVALID) is a use it cannot put the key to.
Result<bool> sign_only(SessionRef& session, CK_OBJECT_HANDLE private_key) {
  auto signs = get_bool(session, private_key, CKA_SIGN);
  if (!signs.ok()) return signs.error();
  if (!*signs) return false;
  for (CK_ATTRIBUTE_TYPE use : {CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE}) {
    auto allowed = get_bool(session, private_key, use);
    if (!allowed.ok() && session.fault == CKR_ATTRIBUTE_TYPE_INVALID) {
      session.fault = CKR_OK;
      continue;
    }
    if (!allowed.ok()) return allowed.error();
    if (*allowed) return false;
  }
  return true;
}

// Best effort: the caller reports the first error, not this one.
void destroy_pair(SessionRef& session, const Pair& pair) {
  (void)destroy_object(session, pair.private_key);
  (void)destroy_object(session, pair.public_key);
}

}  // namespace

void add_key_identity(Template& t, std::string_view id, std::string_view label) {
  t.add_bool(CKA_TOKEN, true)
      .add_bytes(CKA_ID, id)
      .add_bytes(CKA_LABEL, label)
      .add_bool(CKA_MODIFIABLE, false);
}

void fill_private_key_template(Template& t, std::optional<CK_MECHANISM_TYPE> mechanism, std::string_view id,
                               std::string_view label) {
  add_key_identity(t, id, label);
  t.add_bool(CKA_PRIVATE, true)
      .add_bool(CKA_SENSITIVE, true)
      .add_bool(CKA_EXTRACTABLE, false)
      .add_bool(CKA_SIGN, true)
      .add_bool(CKA_SIGN_RECOVER, false)
      .add_bool(CKA_DERIVE, false)
      .add_bool(CKA_DECRYPT, false)
      .add_bool(CKA_UNWRAP, false)
      // Otherwise every C_Sign would need its own context-specific login, i.e. the PIN again.
      .add_bool(CKA_ALWAYS_AUTHENTICATE, false);
  // The attributes PKCS#11 2.40 added, which older tokens refuse as a whole template: without a
  // mechanism, none of them.
  if (!mechanism) return;
  // One key, one algorithm (RFC 8725 §3.1), enforced by the token itself.
  t.add_mechanisms(CKA_ALLOWED_MECHANISMS, {*mechanism})
      .add_bool(CKA_COPYABLE, false)
      // Retiring keys must stay possible; who may destroy is decided above this layer.
      .add_bool(CKA_DESTROYABLE, true);
}

void fill_ec_public_template(Template& t, std::string_view id, std::string_view label, std::string_view ec_params) {
  add_key_identity(t, id, label);
  // No CKA_VERIFY: Signet verifies in software, and tpm2-pkcs11 derives it from the TPM object and
  // refuses (CKR_GENERAL_ERROR) a template whose value differs from its own.
  t.add_bool(CKA_PRIVATE, false).add_bytes(CKA_EC_PARAMS, ec_params);
}

Result<KeyInfo> generate_key_pair(SessionRef& session, SignScheme scheme, unsigned rsa_bits,
                                  std::string_view chosen_id, KeyReading& reading) {
  if (is_rsa(scheme) && (rsa_bits < kMinRsaBits || rsa_bits > kMaxRsaBits)) {
    return make_error(Code::kInvalidArgument, "RSA keys must have 2048 to 4096 bits, not " +
                                                  std::to_string(rsa_bits));
  }
  std::string id(chosen_id);
  if (id.empty()) {
    unsigned char raw_id[kIdSize];
    if (RAND_bytes(raw_id, sizeof raw_id) != 1) {
      return make_error(Code::kInternal, "the random generator failed to make a key id");
    }
    id.assign(reinterpret_cast<const char*>(raw_id), sizeof raw_id);
  }
  std::string label = std::string(kKeyLabelPrefix) + hex::encode(id);

  Pair pair;
  auto attempt = [&](bool bind) {
    if (scheme != SignScheme::kEd25519) return generate(session, scheme, id, label, rsa_bits, p256_params(), bind, pair);
    // PKCS#11 3.0 names Edwards curves by PrintableString; some modules know only the RFC 8410
    // OID (and SoftHSM 2.6.1 takes both, storing whichever it was given). Try the name first,
    // then the OID, so that generation works on either kind of module.
    CK_RV rv = generate(session, scheme, id, label, 0, ed25519_params_name(), bind, pair);
    if (curve_refused(rv)) rv = generate(session, scheme, id, label, 0, ed25519_params_oid(), bind, pair);
    return rv;
  };
  const bool bind = reading.binding.load() != Binding::kNotAccepted;
  CK_RV rv = attempt(bind);
  if (bind && rv == CKR_ATTRIBUTE_TYPE_INVALID) {
    // A token older than PKCS#11 2.40 (opencryptoki 3.8's soft token) knows neither
    // CKA_ALLOWED_MECHANISMS nor CKA_COPYABLE nor CKA_DESTROYABLE and refuses the whole template:
    // the key is made without them, and said unbound. (A copy it might allow keeps
    // CKA_SENSITIVE and CKA_EXTRACTABLE, which C_CopyObject cannot loosen.)
    rv = attempt(false);
    if (rv == CKR_OK) reading.binding.store(Binding::kNotAccepted);
  }
  if (rv != CKR_OK) return session.fail("C_GenerateKeyPair", rv);

  auto info = describe_key(session, pair.private_key, reading);
  if (!info.ok()) {
    destroy_pair(session, pair);
    return info.error();
  }
  if (!info->has_value()) {
    destroy_pair(session, pair);
    return make_error(Code::kInternal, "the new key pair '" + label + "' cannot be read back");
  }
  const KeyInfo& key = **info;
  if (!key.local || !key.always_sensitive || !key.never_extractable) {
    // Without this evidence we cannot show that the private key never left the token.
    destroy_pair(session, pair);
    return make_error(Code::kInternal, "the token does not vouch for the new key '" + label +
                                           "' (CKA_LOCAL, CKA_ALWAYS_SENSITIVE or "
                                           "CKA_NEVER_EXTRACTABLE is false); it was destroyed");
  }
  auto only_signs = sign_only(session, pair.private_key);
  if (!only_signs.ok() || !*only_signs) {
    destroy_pair(session, pair);
    if (!only_signs.ok()) return only_signs.error();
    return make_error(Code::kInternal, "the token does not keep the new key '" + label +
                                           "' sign-only (CKA_SIGN false, or CKA_DECRYPT, CKA_UNWRAP or "
                                           "CKA_DERIVE true); it was destroyed");
  }
  return key;
}

}  // namespace signet::hsm
