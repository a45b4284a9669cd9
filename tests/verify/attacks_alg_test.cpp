// SECURITY.md §1a, header attacks: alg none (and case variants), HS256 with the public key as the
// secret (PEM, DER, JWK text, raw n and x||y), alg relabelling, kid injection strings, jku/x5u/
// jwk/x5c, crit variants, b64, cty (nested JWT). Tokens that need a valid signature over hostile
// headers are signed with software keys made in the test (software_key.h), not with the HSM.
#include "firmware/jose/base64url.h"
#include "firmware/verify/verifier.h"
#include "tests/verify/software_key.h"

#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

namespace signet::verify {
namespace {

using json = nlohmann::json;
using testing::b64;
using testing::es256_key;
using testing::rs256_key;

VerifyResult check(const std::string& token) {
  return verify(testing::all_keys(), token, testing::expectations());
}

std::string hs256_token(const std::string& header, const std::string& payload, const std::string& secret) {
  const std::string input = b64(header) + "." + b64(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + b64(std::string(reinterpret_cast<char*>(mac), len));
}

std::string pem_of(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string der_of(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

TEST(AlgNone, RefusedInEveryCaseWithOrWithoutSignature) {
  const std::string valid = es256_key().token(es256_key().header(), testing::good_claims());
  const std::string kept_sig = valid.substr(valid.rfind('.'));
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    const std::string input = b64(json{{"alg", alg}, {"kid", "es-1"}, {"typ", "signet+jwt"}}.dump()) + "." +
                              b64(testing::good_claims());
    for (const std::string& token : {input + ".", input + kept_sig}) {
      const VerifyResult r = check(token);
      EXPECT_FALSE(r.valid) << alg;
      EXPECT_EQ(r.reason, Reason::kAlgNotAllowed) << alg;
    }
  }
}

TEST(KeyConfusion, Hs256WithThePublicKeyAsSecretRefused) {
  const json rsa_jwk = rs256_key().public_jwk();
  const json ec_jwk = es256_key().public_jwk();
  const std::vector<std::pair<std::string, std::string>> secrets = {
      {"rs-1", pem_of(rs256_key().pkey())},
      {"rs-1", der_of(rs256_key().pkey())},
      {"rs-1", rsa_jwk.dump()},
      {"rs-1", *jose::base64url_decode(rsa_jwk["n"].get<std::string>())},
      {"es-1", pem_of(es256_key().pkey())},
      {"es-1", der_of(es256_key().pkey())},
      {"es-1", ec_jwk.dump()},
      {"es-1", *jose::base64url_decode(ec_jwk["x"].get<std::string>()) +
                   *jose::base64url_decode(ec_jwk["y"].get<std::string>())},
  };
  for (const auto& [kid, secret] : secrets) {
    for (const char* alg : {"HS256", "HS384", "HS512"}) {
      const std::string header = json{{"alg", alg}, {"kid", kid}, {"typ", "signet+jwt"}}.dump();
      const VerifyResult r = check(hs256_token(header, testing::good_claims(), secret));
      EXPECT_FALSE(r.valid);
      EXPECT_EQ(r.reason, Reason::kAlgNotAllowed) << alg << " " << kid;
    }
  }
}

TEST(AlgRelabel, HeaderAlgMustEqualTheKeysAlg) {
  struct Case { const testing::SoftwareKey* key; const char* alg; };
  const testing::SoftwareKey& ps = testing::ps256_key();
  const testing::SoftwareKey& ed = testing::eddsa_key();
  for (const Case c : {Case{&es256_key(), "ES384"}, Case{&es256_key(), "PS256"}, Case{&es256_key(), "es256"},
                       Case{&es256_key(), "EdDSA"}, Case{&rs256_key(), "PS256"}, Case{&rs256_key(), "RS384"},
                       Case{&ps, "RS256"}, Case{&ed, "ES256"}, Case{&ed, "Ed25519"}, Case{&ed, "ED25519"}}) {
    const std::string header = json{{"alg", c.alg}, {"kid", c.key->kid()}, {"typ", "signet+jwt"}}.dump();
    const VerifyResult r = check(c.key->token(header, testing::good_claims()));
    EXPECT_EQ(r.reason, Reason::kAlgNotAllowed) << c.key->kid() << " as " << c.alg;
  }
}

TEST(KidInjection, OpaqueLookupOnly) {
  const std::vector<std::string> kids = {"../../../../dev/null", "' OR '1'='1", "|id", "$(id)",
                                         "http://127.0.0.1:1/x", "file:///etc/passwd", "es-1 ",
                                         "ES-1", std::string("es-1\0x", 6)};
  for (const std::string& kid : kids) {
    const std::string header = json{{"alg", "ES256"}, {"kid", kid}, {"typ", "signet+jwt"}}.dump();
    const VerifyResult r = check(es256_key().token(header, testing::good_claims()));
    EXPECT_EQ(r.reason, Reason::kUnknownKid) << kid;
  }
  // 10 kB of junk: over the header cap, refused before any lookup.
  const std::string header = json{{"alg", "ES256"}, {"kid", std::string(10'000, 'j')}}.dump();
  EXPECT_EQ(check(es256_key().token(header, testing::good_claims())).reason, Reason::kMalformed);
}

TEST(RemoteAndEmbeddedKeys, JkuX5uJwkX5cRefused) {
  const testing::SoftwareKey attacker("ES256", "attacker");
  const json extras[] = {
      {{"jku", "http://127.0.0.1:1/jwks.json"}},
      {{"x5u", "http://127.0.0.1:1/cert.pem"}},
      {{"jwk", attacker.public_jwk()}},
      {{"x5c", json::array({"MIIB"})}},
  };
  for (const json& extra : extras) {
    for (const testing::SoftwareKey* signer : {&es256_key(), &attacker}) {
      json header = {{"alg", "ES256"}, {"kid", signer->kid()}, {"typ", "signet+jwt"}};
      header.update(extra);
      const VerifyResult r = check(signer->token(header.dump(), testing::good_claims()));
      EXPECT_EQ(r.reason, Reason::kMalformed) << extra.dump();
    }
  }
  // The attacker's key under Signet's kid, without any header help: just a bad signature.
  json header = {{"alg", "ES256"}, {"kid", "es-1"}, {"typ", "signet+jwt"}};
  const std::string forged = attacker.token(header.dump(), testing::good_claims());
  EXPECT_EQ(check(forged).reason, Reason::kBadSignature);
}

TEST(Crit, EveryFormRefused) {
  const json extras[] = {
      {{"crit", json::array({"x"})}, {"x", 1}},
      {{"crit", json::array()}},
      {{"crit", json::array({"b64"})}, {"b64", false}},
      {{"crit", json::array({"exp"})}},
      {{"crit", "x"}},
      {{"crit", json::array({"alg"})}},
      {{"b64", false}},
      {{"b64", true}},
  };
  for (const json& extra : extras) {
    json header = json::parse(es256_key().header());
    header.update(extra);
    EXPECT_EQ(check(es256_key().token(header.dump(), testing::good_claims())).reason, Reason::kMalformed)
        << extra.dump();
  }
}

TEST(NestedJwt, CtyRefusedAndNeverRecursed) {
  const std::string inner = es256_key().token(es256_key().header(), testing::good_claims());
  for (const char* cty : {"JWT", "jwt", "json"}) {
    json header = json::parse(es256_key().header());
    header["cty"] = cty;
    EXPECT_EQ(check(es256_key().token(header.dump(), inner)).reason, Reason::kMalformed) << cty;
  }
  // Without cty, a payload that is itself a JWT is just not a claims object.
  EXPECT_EQ(check(es256_key().token(es256_key().header(), inner)).reason, Reason::kMalformed);
}

TEST(Header, RequiredMembersAndTypes) {
  const std::string claims = testing::good_claims();
  for (const char* header : {R"({"kid":"es-1"})", R"({"alg":"ES256"})", R"({"alg":256,"kid":"es-1"})",
                             R"({"alg":"ES256","kid":7})", R"({"alg":"ES256","kid":""})",
                             R"({"alg":"ES256","kid":"es-1","typ":1})", R"(["ES256","es-1"])", R"("ES256")",
                             R"({"alg":"ES256","kid":"es-1","enc":"A256GCM"})",
                             R"({"alg":"ES256","kid":"es-1","zip":"DEF"})"}) {
    EXPECT_EQ(check(es256_key().token(header, claims)).reason, Reason::kMalformed) << header;
  }
}

}  // namespace
}  // namespace signet::verify
