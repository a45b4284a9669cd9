// The signature core: one OpenSSL EVP_DigestVerify per scheme, with the JWA parameters fixed
// here (RFC 7518 §3.3-3.5, RFC 8037 §3.1) rather than taken from anywhere else. ECDSA r||s is
// range-checked (1 <= r,s < n: CVE-2022-21449 "psychic signatures") before OpenSSL checks again.
#include "firmware/verify/key.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>

#include <array>
#include <cstddef>

namespace signet::verify::internal {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
struct BnDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

// Explicitly fetched once: EVP_sha256() would make OpenSSL 3 look the digest up on every call.
const EVP_MD* digest(const char* name) {
  return EVP_MD_fetch(nullptr, name, nullptr);
}
const EVP_MD* sha256() {
  static const EVP_MD* md = digest("SHA2-256");
  return md;
}
const EVP_MD* sha384() {
  static const EVP_MD* md = digest("SHA2-384");
  return md;
}
const EVP_MD* sha512() {
  static const EVP_MD* md = digest("SHA2-512");
  return md;
}

const BIGNUM* curve_order(int nid) {
  // The groups live for the whole process (they are read-only once built).
  static const EC_GROUP* p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  static const EC_GROUP* p521 = EC_GROUP_new_by_curve_name(NID_secp521r1);
  const EC_GROUP* group = nid == NID_X9_62_prime256v1 ? p256 : p521;
  return group == nullptr ? nullptr : EC_GROUP_get0_order(group);
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool digest_verify(EVP_PKEY* pkey, const EVP_MD* md, std::string_view input,
                   std::string_view sig, int rsa_padding = 0, int pss_saltlen = 0) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey) != 1) return false;
  if (rsa_padding == RSA_PKCS1_PSS_PADDING) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_saltlen) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1) {
      return false;
    }
  } else if (rsa_padding == RSA_PKCS1_PADDING) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
  }
  return EVP_DigestVerify(ctx.get(), bytes(sig), sig.size(), bytes(input), input.size()) == 1;
}

bool verify_rsa(const PublicKey& key, const EVP_MD* md, std::string_view input,
                std::string_view sig, bool pss) {
  // JWA signatures are exactly the modulus length; no shorter (leading zeros) or longer form.
  if (sig.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key.pkey.get()))) return false;
  const int saltlen = static_cast<int>(EVP_MD_get_size(md));  // JWA: salt = hash length
  return digest_verify(key.pkey.get(), md, input, sig,
                       pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING, saltlen);
}

BnPtr scalar_in_range(std::string_view half, const BIGNUM* order) {
  BnPtr v(BN_bin2bn(bytes(half), static_cast<int>(half.size()), nullptr));
  if (!v || BN_is_zero(v.get()) || BN_cmp(v.get(), order) >= 0) return nullptr;
  return v;
}

bool verify_ecdsa(const PublicKey& key, const EVP_MD* md, int nid, std::size_t half,
                  std::string_view input, std::string_view sig) {
  if (sig.size() != 2 * half) return false;  // RFC 7518 §3.4: any other length fails
  const BIGNUM* order = curve_order(nid);
  if (order == nullptr) return false;
  BnPtr r = scalar_in_range(sig.substr(0, half), order);
  BnPtr s = scalar_in_range(sig.substr(half), order);
  if (!r || !s) return false;
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> ecdsa(ECDSA_SIG_new());
  if (!ecdsa || ECDSA_SIG_set0(ecdsa.get(), r.get(), s.get()) != 1) return false;
  r.release();  // now owned by ecdsa
  s.release();
  // The largest DER form (P-521): SEQUENCE of two INTEGERs of up to 67 bytes each.
  std::array<unsigned char, 160> der{};
  unsigned char* out = der.data();
  if (i2d_ECDSA_SIG(ecdsa.get(), nullptr) > static_cast<int>(der.size())) return false;
  const int der_len = i2d_ECDSA_SIG(ecdsa.get(), &out);
  if (der_len <= 0) return false;
  const std::string_view der_sig(reinterpret_cast<const char*>(der.data()),
                                 static_cast<std::size_t>(der_len));
  return digest_verify(key.pkey.get(), md, input, der_sig);
}

bool verify_ed25519(const PublicKey& key, std::string_view input, std::string_view sig) {
  if (sig.size() != 64) return false;
  return digest_verify(key.pkey.get(), nullptr, input, sig);
}

}  // namespace

std::string_view scheme_name(Scheme scheme) {
  switch (scheme) {
    case Scheme::kRs256: return "RS256";
    case Scheme::kPs256: return "PS256";
    case Scheme::kEs256: return "ES256";
    case Scheme::kEdDsa: return "EdDSA";
    case Scheme::kPs384: return "PS384";
    case Scheme::kEs512: return "ES512";
  }
  return "";
}

std::optional<Scheme> scheme_from_name(std::string_view name) {
  for (Scheme s : {Scheme::kRs256, Scheme::kPs256, Scheme::kEs256, Scheme::kEdDsa,
                   Scheme::kPs384, Scheme::kEs512}) {
    if (scheme_name(s) == name) return s;
  }
  return std::nullopt;
}

bool verify_signature(const PublicKey& key, std::string_view signing_input,
                      std::string_view signature) {
  if (!key.pkey) return false;
  bool ok = false;
  switch (key.scheme) {
    case Scheme::kRs256: ok = verify_rsa(key, sha256(), signing_input, signature, false); break;
    case Scheme::kPs256: ok = verify_rsa(key, sha256(), signing_input, signature, true); break;
    case Scheme::kPs384: ok = verify_rsa(key, sha384(), signing_input, signature, true); break;
    case Scheme::kEs256:
      ok = verify_ecdsa(key, sha256(), NID_X9_62_prime256v1, 32, signing_input, signature);
      break;
    case Scheme::kEs512:
      ok = verify_ecdsa(key, sha512(), NID_secp521r1, 66, signing_input, signature);
      break;
    case Scheme::kEdDsa: ok = verify_ed25519(key, signing_input, signature); break;
  }
  // A refused signature leaves OpenSSL errors on this thread's queue; they carry nothing we use.
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace signet::verify::internal
