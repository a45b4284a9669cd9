// Finding Signet's key pairs in the token and reading their public halves and evidence;
// destroying them. Only public attributes and the three evidence flags are ever read here.
#include <algorithm>
#include <optional>

#include "base/hex.h"
#include "hsm/encoding.h"
#include "hsm/operations.h"

namespace signet::hsm {
namespace {

constexpr std::size_t kP256PointSize = 65;  // 04 || X || Y
constexpr std::size_t kP256CoordinateSize = 32;
constexpr std::size_t kEd25519KeySize = 32;

// The scheme a key is bound to, read from its key type and its single allowed mechanism, or
// nullopt for anything Signet would not have generated. Without a reported binding, the key type
// alone decides, and an RSA key is read as the scheme Signet is configured for.
std::optional<SignScheme> scheme_of(CK_KEY_TYPE type,
                                    const std::optional<std::vector<CK_MECHANISM_TYPE>>& bound,
                                    SignScheme unbound_rsa) {
  if (!bound) {
    if (type == CKK_RSA) return unbound_rsa;
    if (type == CKK_EC) return SignScheme::kEcdsaP256Sha256;
    if (type == CKK_EC_EDWARDS) return SignScheme::kEd25519;
    return std::nullopt;
  }
  const std::vector<CK_MECHANISM_TYPE>& mechanisms = *bound;
  if (mechanisms.size() != 1) return std::nullopt;
  CK_MECHANISM_TYPE mechanism = mechanisms[0];
  if (type == CKK_RSA && mechanism == CKM_SHA256_RSA_PKCS) return SignScheme::kRsaPkcs1Sha256;
  if (type == CKK_RSA && mechanism == CKM_SHA256_RSA_PKCS_PSS) return SignScheme::kRsaPssSha256;
  if (type == CKK_EC && mechanism == CKM_ECDSA) return SignScheme::kEcdsaP256Sha256;
  if (type == CKK_EC_EDWARDS && mechanism == CKM_EDDSA) return SignScheme::kEd25519;
  return std::nullopt;
}

Result<std::optional<CK_OBJECT_HANDLE>> find_public_half(SessionRef& session,
                                                         std::string_view id) {
  Template match;
  match.add_ulong(CKA_CLASS, CKO_PUBLIC_KEY).add_bytes(CKA_ID, id);
  auto found = find_objects(session, match);
  if (!found.ok()) return found.error();
  if (found->empty()) return std::optional<CK_OBJECT_HANDLE>();
  // Two public halves with one random 16-byte id would be someone else's doing; take the
  // lowest handle so that the answer does not depend on the module's search order.
  return std::optional<CK_OBJECT_HANDLE>(*std::min_element(found->begin(), found->end()));
}

// Fills the public half of `key` from its public key object; false when it is not the shape
// the scheme needs (another curve, say).
Result<bool> read_public_half(SessionRef& session, CK_OBJECT_HANDLE public_key, KeyInfo& key) {
  switch (key.scheme) {
    case SignScheme::kRsaPkcs1Sha256:
    case SignScheme::kRsaPssSha256: {
      auto modulus = get_bytes(session, public_key, CKA_MODULUS);
      if (!modulus.ok()) return modulus.error();
      auto exponent = get_bytes(session, public_key, CKA_PUBLIC_EXPONENT);
      if (!exponent.ok()) return exponent.error();
      key.rsa_modulus = strip_leading_zeros(*modulus);
      key.rsa_public_exponent = strip_leading_zeros(*exponent);
      return !modulus->empty() && !exponent->empty();
    }
    case SignScheme::kEcdsaP256Sha256: {
      auto params = get_bytes(session, public_key, CKA_EC_PARAMS);
      if (!params.ok()) return params.error();
      if (*params != p256_params()) return false;
      auto attribute = get_bytes(session, public_key, CKA_EC_POINT);
      if (!attribute.ok()) return attribute.error();
      auto point = unwrap_ec_point(*attribute, kP256PointSize);
      if (!point.ok()) return point.error();
      if ((*point)[0] != '\x04') return false;  // only the uncompressed form is defined here
      key.ec_x = point->substr(1, kP256CoordinateSize);
      key.ec_y = point->substr(1 + kP256CoordinateSize, kP256CoordinateSize);
      return true;
    }
    case SignScheme::kEd25519: {
      auto params = get_bytes(session, public_key, CKA_EC_PARAMS);
      if (!params.ok()) return params.error();
      if (*params != ed25519_params_oid() && *params != ed25519_params_name()) return false;
      auto attribute = get_bytes(session, public_key, CKA_EC_POINT);
      if (!attribute.ok()) return attribute.error();
      auto point = unwrap_ec_point(*attribute, kEd25519KeySize);
      if (!point.ok()) return point.error();
      key.ed25519_public = std::move(*point);
      return true;
    }
  }
  return false;
}

// The key's CKA_ALLOWED_MECHANISMS, or nullopt when this token does not report it; the first
// answer teaches `reading` which kind of token this is, so an unreported attribute is asked for
// once per token, not once per key and listing.
Result<std::optional<std::vector<CK_MECHANISM_TYPE>>> read_binding(SessionRef& session,
                                                                   CK_OBJECT_HANDLE private_key,
                                                                   KeyReading& reading) {
  const Binding known = reading.binding.load(std::memory_order_relaxed);
  if (known == Binding::kNotReported || known == Binding::kNotAccepted) {
    return std::optional<std::vector<CK_MECHANISM_TYPE>>();
  }
  auto bound = get_mechanisms_if_reported(session, private_key, CKA_ALLOWED_MECHANISMS);
  if (!bound.ok()) return bound.error();
  const Binding learned = bound->has_value() ? Binding::kEnforced : Binding::kNotReported;
  Binding expected = Binding::kUnknown;
  // A token that reports it for one key and not another counts as not reporting it.
  if (!reading.binding.compare_exchange_strong(expected, learned) && learned == Binding::kNotReported &&
      expected == Binding::kEnforced) {
    reading.binding.store(Binding::kNotReported);
  }
  return bound;
}

}  // namespace

Result<std::optional<KeyInfo>> describe_key(SessionRef& session, CK_OBJECT_HANDLE private_key,
                                            KeyReading& reading) {
  const std::optional<KeyInfo> not_ours;
  KeyInfo key;
  auto label = get_bytes(session, private_key, CKA_LABEL);
  if (!label.ok()) return label.error();
  if (label->compare(0, kKeyLabelPrefix.size(), kKeyLabelPrefix) != 0) return not_ours;
  key.label = std::move(*label);

  auto id = get_bytes(session, private_key, CKA_ID);
  if (!id.ok()) return id.error();
  if (id->empty()) return not_ours;
  key.id = std::move(*id);

  auto type = get_ulong(session, private_key, CKA_KEY_TYPE);
  if (!type.ok()) return type.error();
  auto bound = read_binding(session, private_key, reading);
  if (!bound.ok()) return bound.error();
  std::optional<SignScheme> scheme = scheme_of(*type, *bound, reading.unbound_rsa);
  if (!scheme) return not_ours;
  key.scheme = *scheme;
  key.mechanism_bound = bound->has_value();
  key.ref = KeyRef{private_key, *scheme, key.id, 0};

  for (auto [attribute, flag] : {std::pair{CKA_LOCAL, &key.local},
                                 std::pair{CKA_ALWAYS_SENSITIVE, &key.always_sensitive},
                                 std::pair{CKA_NEVER_EXTRACTABLE, &key.never_extractable}}) {
    auto value = get_bool(session, private_key, attribute);
    if (!value.ok()) return value.error();
    *flag = *value;
  }

  auto public_key = find_public_half(session, key.id);
  if (!public_key.ok()) return public_key.error();
  if (!public_key->has_value()) return not_ours;
  auto shaped = read_public_half(session, **public_key, key);
  if (!shaped.ok()) return shaped.error();
  if (!*shaped) return not_ours;
  return std::optional<KeyInfo>(std::move(key));
}

Result<std::vector<KeyInfo>> list_key_pairs(SessionRef& session, KeyReading& reading) {
  // A key pair destroyed between the search and its reading (a replica retiring a key) is
  // searched again rather than left out: a listing must be complete (hsm.h).
  for (int attempt = 0; attempt < 3; ++attempt) {
    Template match;
    match.add_ulong(CKA_CLASS, CKO_PRIVATE_KEY).add_bool(CKA_TOKEN, true);
    auto private_keys = find_objects(session, match);
    if (!private_keys.ok()) return private_keys.error();
    std::vector<KeyInfo> keys;
    bool vanished = false;
    for (CK_OBJECT_HANDLE handle : *private_keys) {
      auto key = describe_key(session, handle, reading);
      if (!key.ok() && key.error().code == Code::kNotFound) {
        vanished = true;
        break;
      }
      if (!key.ok()) return key.error();
      if (key->has_value()) keys.push_back(std::move(**key));
    }
    if (vanished) continue;
    std::sort(keys.begin(), keys.end(), [](const KeyInfo& a, const KeyInfo& b) { return a.id < b.id; });
    return keys;
  }
  return make_error(Code::kHsmUnavailable, "the token's keys kept changing while listed");
}

Result<CK_OBJECT_HANDLE> find_private_key(SessionRef& session, std::string_view id) {
  Template match;
  match.add_ulong(CKA_CLASS, CKO_PRIVATE_KEY)
      .add_bytes(CKA_ID, id)
      .add_bytes(CKA_LABEL, std::string(kKeyLabelPrefix) + hex::encode(id));
  auto found = find_objects(session, match);
  if (!found.ok()) return found.error();
  if (found->empty()) {
    // Not kNotFound: the caller held a reference to it, so it is this token's trouble (a key
    // destroyed behind our back), which the ring notices at its next refresh.
    return make_error(Code::kHsmUnavailable, "the token has no key " + hex::encode(id));
  }
  return *std::min_element(found->begin(), found->end());
}

Status destroy_key_pair(SessionRef& session, std::string_view id) {
  if (id.empty()) return make_error(Code::kInvalidArgument, "a key id cannot be empty");
  std::string label = std::string(kKeyLabelPrefix) + hex::encode(id);
  // The private half first: if we stop half-way, what is left is a harmless public key,
  // which the next destroy_key of this id removes.
  for (CK_OBJECT_CLASS object_class : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
    Template match;
    match.add_ulong(CKA_CLASS, object_class).add_bytes(CKA_ID, id).add_bytes(CKA_LABEL, label);
    if (Status destroyed = destroy_matching(session, match); !destroyed.ok()) return destroyed;
  }
  return ok_status();
}

}  // namespace signet::hsm
