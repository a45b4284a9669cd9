#include "tests/hsm/hsm_fixture.h"

#include <dlfcn.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
// SoftHSM 2.6.1 leaks the small OpenSSL ASN.1 objects it decodes in C_SignInit and
// C_GenerateKeyPair, and OpenSC's pkcs11-spy leaks its own state: neither is Signet's memory.
// LeakSanitizer can name a library only while it is mapped, hence keep_module_mapped(); and
// libcrypto has no frame pointers, so unwind slowly to reach the module's frames at all.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libsofthsm2.so\nleak:pkcs11-spy.so\n";
}
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }
#endif

namespace signet::hsm::testing {

void keep_module_mapped(const char* path) {
#if defined(__SANITIZE_ADDRESS__)
  // RTLD_NODELETE: the Hsm's dlclose no longer unmaps it, so leak reports can name it.
  dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
#else
  (void)path;
#endif
}

}  // namespace signet::hsm::testing

namespace signet::hsm {
void PrintTo(SignScheme scheme, std::ostream* os) { *os << hsm::scheme_name(scheme); }
}  // namespace signet::hsm

namespace signet::hsm::testing {

std::unique_ptr<RawP11> RawP11::open(const std::string& module_path, const std::string& label) {
  auto raw = std::unique_ptr<RawP11>(new RawP11());
  raw->library_ = dlopen(module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (raw->library_ == nullptr) return nullptr;
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(dlsym(raw->library_, "C_GetFunctionList"));
  if (get_list == nullptr || get_list(&raw->api_) != CKR_OK) return nullptr;
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  CK_RV rv = raw->api_->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) return nullptr;
  raw->owns_init_ = rv == CKR_OK;
  CK_SLOT_ID slots[16];
  CK_ULONG count = 16;
  if (raw->api_->C_GetSlotList(CK_TRUE, slots, &count) != CKR_OK) return nullptr;
  std::string padded = label + std::string(32 - label.size(), ' ');
  for (CK_ULONG i = 0; i < count; ++i) {
    CK_TOKEN_INFO info{};
    if (raw->api_->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
    if (std::memcmp(info.label, padded.data(), 32) == 0) {
      raw->slot_ = slots[i];
      if (raw->api_->C_OpenSession(slots[i], CKF_SERIAL_SESSION, nullptr, nullptr,
                                   &raw->session_) != CKR_OK) {
        return nullptr;
      }
      return raw;
    }
  }
  return nullptr;
}

RawP11::~RawP11() {
  if (api_ != nullptr) {
    if (session_ != CK_INVALID_HANDLE) api_->C_CloseSession(session_);
    if (owns_init_) api_->C_Finalize(nullptr);
  }
  if (library_ != nullptr) dlclose(library_);
}

CK_FLAGS RawP11::token_flags() {
  CK_TOKEN_INFO info{};
  EXPECT_EQ(api_->C_GetTokenInfo(slot_, &info), CKR_OK);
  return info.flags;
}

CK_RV RawP11::get_attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type, std::string* value) {
  CK_ATTRIBUTE attribute{type, nullptr, 0};
  CK_RV rv = api_->C_GetAttributeValue(session_, object, &attribute, 1);
  if (rv != CKR_OK) return rv;
  std::string buffer(attribute.ulValueLen, '\0');
  attribute.pValue = buffer.data();
  rv = api_->C_GetAttributeValue(session_, object, &attribute, 1);
  if (rv == CKR_OK && value != nullptr) *value = buffer;
  return rv;
}

std::optional<bool> RawP11::get_bool(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  std::string value;
  if (get_attribute(object, type, &value) != CKR_OK || value.size() != 1) return std::nullopt;
  return value[0] != 0;
}

std::vector<CK_OBJECT_HANDLE> RawP11::find(CK_OBJECT_CLASS object_class, const std::string* id) {
  CK_ATTRIBUTE match[2] = {{CKA_CLASS, &object_class, sizeof object_class}, {CKA_ID, nullptr, 0}};
  CK_ULONG count = 1;
  if (id != nullptr) {
    match[1].pValue = const_cast<char*>(id->data());
    match[1].ulValueLen = id->size();
    count = 2;
  }
  std::vector<CK_OBJECT_HANDLE> found;
  EXPECT_EQ(api_->C_FindObjectsInit(session_, match, count), CKR_OK);
  CK_OBJECT_HANDLE batch[32];
  CK_ULONG n = 0;
  while (api_->C_FindObjects(session_, batch, 32, &n) == CKR_OK && n > 0) {
    found.insert(found.end(), batch, batch + n);
  }
  api_->C_FindObjectsFinal(session_);
  return found;
}

namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

PkeyPtr from_params(const char* type, OSSL_PARAM* params) {
  EVP_PKEY* pkey = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  if (ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1) {
    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
  }
  EVP_PKEY_CTX_free(ctx);
  return PkeyPtr(pkey, EVP_PKEY_free);
}

PkeyPtr public_key(const KeyInfo& key) {
  PkeyPtr none(nullptr, EVP_PKEY_free);
  switch (key.scheme) {
    case SignScheme::kRsaPkcs1Sha256:
    case SignScheme::kRsaPssSha256: {
      auto bytes = [](const std::string& s) {
        return BN_bin2bn(reinterpret_cast<const unsigned char*>(s.data()),
                         static_cast<int>(s.size()), nullptr);
      };
      BIGNUM* n = bytes(key.rsa_modulus);
      BIGNUM* e = bytes(key.rsa_public_exponent);
      OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
      OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
      PkeyPtr pkey = from_params("RSA", params);
      OSSL_PARAM_free(params);
      OSSL_PARAM_BLD_free(bld);
      BN_free(n);
      BN_free(e);
      return pkey;
    }
    case SignScheme::kEcdsaP256Sha256: {
      std::string point = "\x04" + key.ec_x + key.ec_y;
      char group[] = "prime256v1";
      OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
          OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
          OSSL_PARAM_construct_end()};
      return from_params("EC", params);
    }
    case SignScheme::kEd25519:
      return PkeyPtr(EVP_PKEY_new_raw_public_key(
                         EVP_PKEY_ED25519, nullptr,
                         reinterpret_cast<const unsigned char*>(key.ed25519_public.data()),
                         key.ed25519_public.size()),
                     EVP_PKEY_free);
  }
  return none;
}

// JWS carries ECDSA as r||s; OpenSSL verifies DER.
std::string ecdsa_der(const std::string& raw) {
  if (raw.size() != 64) return {};
  ECDSA_SIG* sig = ECDSA_SIG_new();
  auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG_set0(sig, BN_bin2bn(p, 32, nullptr), BN_bin2bn(p + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  std::string out(reinterpret_cast<char*>(der), len > 0 ? len : 0);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

}  // namespace

bool verify_signature(const KeyInfo& key, const std::string& message,
                      const std::string& signature) {
  PkeyPtr pkey = public_key(key);
  if (!pkey) return false;
  std::string sig = key.scheme == SignScheme::kEcdsaP256Sha256 ? ecdsa_der(signature) : signature;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = key.scheme == SignScheme::kEd25519 ? nullptr : EVP_sha256();
  bool ok = EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, pkey.get()) == 1;
  if (ok && key.scheme == SignScheme::kRsaPssSha256) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
  }
  ok = ok && EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                              reinterpret_cast<const unsigned char*>(message.data()),
                              message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

void HsmTest::SetUp() {
  keep_module_mapped(signet::testing::softhsm_module_path());
  auto token = signet::testing::SoftHsmToken::create();
  ASSERT_TRUE(token.ok()) << token.error().message;
  token_.emplace(std::move(token).value());
  auto hsm = open_hsm(token_->user_pin());
  ASSERT_TRUE(hsm.ok()) << hsm.error().message;
  hsm_ = std::move(hsm).value();
}

void HsmTest::TearDown() {
  hsm_.reset();
  token_.reset();
}

Result<std::unique_ptr<Hsm>> HsmTest::open_hsm(const std::string& pin, std::size_t max_sessions) {
  Options options;
  options.module_path = token_->module_path();
  options.token_label = token_->label();
  options.pin = SecretString(pin);
  options.max_sessions = max_sessions;
  return Hsm::open(std::move(options));
}

std::unique_ptr<RawP11> HsmTest::raw() {
  return RawP11::open(token_->module_path(), token_->label());
}

std::string HsmTest::sign(const KeyInfo& key, const std::string& message) {
  unsigned char out[512];
  auto len = hsm_->sign(key.ref, message, out, sizeof out);
  EXPECT_TRUE(len.ok()) << len.error().message;
  if (!len.ok()) return {};
  return std::string(reinterpret_cast<char*>(out), *len);
}

}  // namespace signet::hsm::testing
