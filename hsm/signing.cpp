// One signature in one session, with the mechanism each JWS algorithm needs. ES256 is hashed
// here and signed raw by CKM_ECDSA, whose r||s answer is already the JWS encoding.
#include <openssl/sha.h>

#include <cstring>

#include "hsm/encoding.h"
#include "hsm/operations.h"

namespace signet::hsm {

constexpr std::size_t kEcdsaP256SignatureSize = 64;

Result<std::size_t> sign_message(SessionRef& session, const KeyRef& key, std::string_view message,
                                 unsigned char* out, std::size_t out_len) {
  // JWA PS256: SHA-256 for the hash and for MGF1, salt as long as the hash.
  CK_RSA_PKCS_PSS_PARAMS pss{CKM_SHA256, CKG_MGF1_SHA256, SHA256_DIGEST_LENGTH};
  CK_MECHANISM mechanism{CKM_VENDOR_DEFINED, nullptr, 0};
  unsigned char digest[SHA256_DIGEST_LENGTH];
  const unsigned char* data = reinterpret_cast<const unsigned char*>(message.data());
  std::size_t data_len = message.size();
  switch (key.scheme) {
    case SignScheme::kRsaPkcs1Sha256:
      mechanism.mechanism = CKM_SHA256_RSA_PKCS;
      break;
    case SignScheme::kRsaPssSha256:
      mechanism = CK_MECHANISM{CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof pss};
      break;
    case SignScheme::kEcdsaP256Sha256:
      // CKM_ECDSA_SHA256 is missing from many modules; hashing here works everywhere.
      SHA256(data, data_len, digest);
      data = digest;
      data_len = sizeof digest;
      mechanism.mechanism = CKM_ECDSA;
      break;
    case SignScheme::kEd25519:
      mechanism.mechanism = CKM_EDDSA;
      break;
  }

  CK_RV rv = session.api.C_SignInit(session.handle, &mechanism, key.handle);
  if (rv != CKR_OK) return session.fail("C_SignInit", rv);

  const bool ecdsa = key.scheme == SignScheme::kEcdsaP256Sha256;
  // ECDSA goes through a buffer of our own so that a module's short or long answer can be
  // checked before anything reaches the caller's buffer.
  unsigned char raw[2 * 66];
  unsigned char* target = ecdsa ? raw : out;
  CK_ULONG signature_len = ecdsa ? sizeof raw : out_len;
  // C_Sign's data parameter is not const in the 2.x prototype, but the module only reads it.
  rv = session.api.C_Sign(session.handle, const_cast<unsigned char*>(data), data_len, target,
                          &signature_len);
  if (rv != CKR_OK) {
    // CKR_BUFFER_TOO_SMALL leaves the operation active, and not every module ends it on other
    // errors as the standard says: never hand this session to the next signer.
    session.discard = true;
    if (rv == CKR_BUFFER_TOO_SMALL) {
      return make_error(Code::kInternal, "the signature does not fit the " +
                                             std::to_string(out_len) + "-byte buffer");
    }
    return session.fail("C_Sign", rv);
  }
  if (!ecdsa) return static_cast<std::size_t>(signature_len);
  if (out_len < kEcdsaP256SignatureSize) {
    return make_error(Code::kInternal, "an ES256 signature needs a 64-byte buffer");
  }
  auto fixed = ecdsa_p256_fixed_width(
      std::string_view(reinterpret_cast<const char*>(raw), signature_len));
  if (!fixed.ok()) return fixed.error();
  std::memcpy(out, fixed->data(), kEcdsaP256SignatureSize);
  return kEcdsaP256SignatureSize;
}

}  // namespace signet::hsm
