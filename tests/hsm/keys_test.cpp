// Key pairs in a real SoftHSM2 token: each scheme is generated, signs, and verifies with
// OpenSSL from the public half; the private half is locked down, unreadable and invisible
// without login; listing survives a reopen; destroy removes both halves.
#include <algorithm>

#include "tests/hsm/hsm_fixture.h"

namespace signet::hsm::testing {
namespace {

constexpr unsigned kRsaBits = 2048;

class SchemeTest : public HsmTest, public ::testing::WithParamInterface<SignScheme> {};

TEST_P(SchemeTest, GeneratesSignsAndVerifiesWithOpenSsl) {
  auto key = hsm_->generate_key(GetParam(), kRsaBits);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->id.size(), 16u);
  EXPECT_EQ(key->label.rfind("signet:", 0), 0u);
  EXPECT_EQ(key->label.size(), 7u + 32u);
  EXPECT_EQ(key->scheme, GetParam());
  EXPECT_TRUE(key->local);
  EXPECT_TRUE(key->always_sensitive);
  EXPECT_TRUE(key->never_extractable);
  switch (GetParam()) {
    case SignScheme::kRsaPkcs1Sha256:
    case SignScheme::kRsaPssSha256:
      EXPECT_EQ(key->rsa_modulus.size(), 256u);
      EXPECT_EQ(key->rsa_public_exponent, std::string("\x01\x00\x01", 3));
      break;
    case SignScheme::kEcdsaP256Sha256:
      EXPECT_EQ(key->ec_x.size(), 32u);
      EXPECT_EQ(key->ec_y.size(), 32u);
      break;
    case SignScheme::kEd25519:
      EXPECT_EQ(key->ed25519_public.size(), 32u);
      break;
  }

  const std::string message = "eyJhbGciOiJ4In0.eyJzdWIiOiJhbGljZSJ9";
  std::string signature = sign(*key, message);
  ASSERT_FALSE(signature.empty());
  if (GetParam() == SignScheme::kEcdsaP256Sha256 || GetParam() == SignScheme::kEd25519) {
    EXPECT_EQ(signature.size(), 64u);
  } else {
    EXPECT_EQ(signature.size(), 256u);
  }
  EXPECT_TRUE(verify_signature(*key, message, signature));
  EXPECT_FALSE(verify_signature(*key, message + "x", signature));
}

TEST_P(SchemeTest, PrivateKeyIsLockedDown) {
  auto key = hsm_->generate_key(GetParam(), kRsaBits);
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto p11 = raw();  // same process, so it shares the Hsm's login
  ASSERT_NE(p11, nullptr);
  CK_OBJECT_HANDLE priv = key->ref.handle;
  for (auto [attribute, expected] : {std::pair{CKA_TOKEN, true},
                                     std::pair{CKA_PRIVATE, true},
                                     std::pair{CKA_SENSITIVE, true},
                                     std::pair{CKA_EXTRACTABLE, false},
                                     std::pair{CKA_SIGN, true},
                                     std::pair{CKA_SIGN_RECOVER, false},
                                     std::pair{CKA_DECRYPT, false},
                                     std::pair{CKA_UNWRAP, false},
                                     std::pair{CKA_DERIVE, false},
                                     std::pair{CKA_MODIFIABLE, false},
                                     std::pair{CKA_COPYABLE, false},
                                     std::pair{CKA_DESTROYABLE, true},
                                     std::pair{CKA_ALWAYS_AUTHENTICATE, false},
                                     std::pair{CKA_LOCAL, true},
                                     std::pair{CKA_ALWAYS_SENSITIVE, true},
                                     std::pair{CKA_NEVER_EXTRACTABLE, true}}) {
    auto value = p11->get_bool(priv, attribute);
    ASSERT_TRUE(value.has_value()) << "attribute 0x" << std::hex << attribute;
    EXPECT_EQ(*value, expected) << "attribute 0x" << std::hex << attribute;
  }

  std::string mechanisms;
  ASSERT_EQ(p11->get_attribute(priv, CKA_ALLOWED_MECHANISMS, &mechanisms), CKR_OK);
  ASSERT_EQ(mechanisms.size(), sizeof(CK_MECHANISM_TYPE));

  // The private components cannot be read.
  std::string secret;
  if (GetParam() == SignScheme::kRsaPkcs1Sha256 || GetParam() == SignScheme::kRsaPssSha256) {
    EXPECT_EQ(p11->get_attribute(priv, CKA_PRIVATE_EXPONENT, &secret), CKR_ATTRIBUTE_SENSITIVE);
    EXPECT_EQ(p11->get_attribute(priv, CKA_PRIME_1, &secret), CKR_ATTRIBUTE_SENSITIVE);
  } else {
    EXPECT_EQ(p11->get_attribute(priv, CKA_VALUE, &secret), CKR_ATTRIBUTE_SENSITIVE);
  }

  // Frozen: no relabelling, no clone.
  CK_SESSION_HANDLE rw = CK_INVALID_HANDLE;
  ASSERT_EQ(p11->api().C_OpenSession(p11->slot(), CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                     nullptr, &rw),
            CKR_OK);
  char label[] = "stolen";
  CK_ATTRIBUTE relabel{CKA_LABEL, label, sizeof label - 1};
  EXPECT_NE(p11->api().C_SetAttributeValue(rw, priv, &relabel, 1), CKR_OK);
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  EXPECT_NE(p11->api().C_CopyObject(rw, priv, nullptr, 0, &copy), CKR_OK);
  p11->api().C_CloseSession(rw);
}

TEST_P(SchemeTest, KeyIsBoundToItsOneMechanism) {
  auto key = hsm_->generate_key(GetParam(), kRsaBits);
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto p11 = raw();
  ASSERT_NE(p11, nullptr);
  // A mechanism the key type supports but the key was not generated for.
  CK_MECHANISM_TYPE other = GetParam() == SignScheme::kRsaPssSha256     ? CKM_SHA256_RSA_PKCS
                            : GetParam() == SignScheme::kRsaPkcs1Sha256 ? CKM_RSA_PKCS
                            : GetParam() == SignScheme::kEcdsaP256Sha256 ? CKM_ECDSA_SHA256
                                                                        : CKM_ECDSA;
  CK_MECHANISM mechanism{other, nullptr, 0};
  CK_RV rv = p11->api().C_SignInit(p11->session(), &mechanism, key->ref.handle);
  // SoftHSM2 enforces CKA_ALLOWED_MECHANISMS with this code.
  EXPECT_EQ(rv, CKR_MECHANISM_INVALID);
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, SchemeTest,
                         ::testing::Values(SignScheme::kRsaPkcs1Sha256, SignScheme::kRsaPssSha256,
                                           SignScheme::kEcdsaP256Sha256, SignScheme::kEd25519),
                         [](const auto& info) { return std::string(scheme_name(info.param)); });

TEST_F(HsmTest, Ed25519PublicKeyNamesItsCurve) {
  auto key = hsm_->generate_key(SignScheme::kEd25519, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto p11 = raw();
  ASSERT_NE(p11, nullptr);
  auto pub = p11->find(CKO_PUBLIC_KEY, &key->id);
  ASSERT_EQ(pub.size(), 1u);
  std::string params;
  ASSERT_EQ(p11->get_attribute(pub[0], CKA_EC_PARAMS, &params), CKR_OK);
  // SoftHSM 2.6.1 takes the PrintableString, so the OID fallback is not used here.
  EXPECT_EQ(params, std::string("\x13\x0c" "edwards25519", 14));
}

TEST_F(HsmTest, RefusesRsaKeysBelow2048Bits) {
  auto key = hsm_->generate_key(SignScheme::kRsaPkcs1Sha256, 1024);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, Code::kInvalidArgument);
  auto keys = hsm_->list_keys();
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
}

TEST_F(HsmTest, PrivateKeysAreInvisibleWithoutLogin) {
  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  hsm_.reset();  // logs out and finalizes: the raw module below starts without a login
  auto p11 = raw();
  ASSERT_NE(p11, nullptr);
  CK_SESSION_INFO info{};
  ASSERT_EQ(p11->api().C_GetSessionInfo(p11->session(), &info), CKR_OK);
  EXPECT_EQ(info.state, CKS_RO_PUBLIC_SESSION);
  EXPECT_TRUE(p11->find(CKO_PRIVATE_KEY, nullptr).empty());
  EXPECT_EQ(p11->find(CKO_PUBLIC_KEY, &key->id).size(), 1u);
}

TEST_F(HsmTest, ListAfterReopenGivesTheSameKeys) {
  std::vector<KeyInfo> made;
  for (SignScheme scheme : {SignScheme::kRsaPkcs1Sha256, SignScheme::kRsaPssSha256,
                            SignScheme::kEcdsaP256Sha256, SignScheme::kEd25519}) {
    auto key = hsm_->generate_key(scheme, kRsaBits);
    ASSERT_TRUE(key.ok()) << key.error().message;
    made.push_back(*key);
  }
  std::sort(made.begin(), made.end(), [](auto& a, auto& b) { return a.id < b.id; });

  hsm_.reset();
  auto reopened = open_hsm(token_->user_pin());
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  hsm_ = std::move(reopened).value();
  auto listed = hsm_->list_keys();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), made.size());
  for (std::size_t i = 0; i < made.size(); ++i) {
    const KeyInfo& a = made[i];
    const KeyInfo& b = (*listed)[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.label, b.label);
    EXPECT_EQ(a.scheme, b.scheme);
    EXPECT_EQ(a.rsa_modulus, b.rsa_modulus);
    EXPECT_EQ(a.rsa_public_exponent, b.rsa_public_exponent);
    EXPECT_EQ(a.ec_x, b.ec_x);
    EXPECT_EQ(a.ec_y, b.ec_y);
    EXPECT_EQ(a.ed25519_public, b.ed25519_public);
    EXPECT_TRUE(b.local && b.always_sensitive && b.never_extractable);
    // The handles of the new session's view still sign for the same public key.
    std::string signature = sign(b, "after reopen");
    EXPECT_TRUE(verify_signature(a, "after reopen", signature)) << scheme_name(a.scheme);
  }
}

TEST_F(HsmTest, ListSkipsForeignKeysAndPrivateKeysWithoutPublicHalf) {
  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto orphan = hsm_->generate_key(SignScheme::kEd25519, 0);
  ASSERT_TRUE(orphan.ok()) << orphan.error().message;
  {
    auto p11 = raw();
    ASSERT_NE(p11, nullptr);
    CK_SESSION_HANDLE rw = CK_INVALID_HANDLE;
    ASSERT_EQ(p11->api().C_OpenSession(p11->slot(), CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                       nullptr, &rw),
              CKR_OK);
    for (CK_OBJECT_HANDLE pub : p11->find(CKO_PUBLIC_KEY, &orphan->id)) {
      EXPECT_EQ(p11->api().C_DestroyObject(rw, pub), CKR_OK);
    }
    p11->api().C_CloseSession(rw);
  }
  auto listed = hsm_->list_keys();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, key->id);
}

TEST_F(HsmTest, DestroyRemovesBothHalves) {
  auto key = hsm_->generate_key(SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto keep = hsm_->generate_key(SignScheme::kEd25519, 0);
  ASSERT_TRUE(keep.ok()) << keep.error().message;

  ASSERT_TRUE(hsm_->destroy_key(key->id).ok());
  {
    auto p11 = raw();
    ASSERT_NE(p11, nullptr);
    EXPECT_TRUE(p11->find(CKO_PRIVATE_KEY, &key->id).empty());
    EXPECT_TRUE(p11->find(CKO_PUBLIC_KEY, &key->id).empty());
    EXPECT_EQ(p11->find(CKO_PRIVATE_KEY, &keep->id).size(), 1u);
  }
  auto listed = hsm_->list_keys();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, keep->id);

  // Absent is fine; the stale handle no longer signs.
  EXPECT_TRUE(hsm_->destroy_key(key->id).ok());
  unsigned char out[512];
  auto signed_len = hsm_->sign(key->ref, "x", out, sizeof out);
  EXPECT_FALSE(signed_len.ok());
}

}  // namespace
}  // namespace signet::hsm::testing
