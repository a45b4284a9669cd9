// SECURITY.md §1a, with every token signed by a real PKCS#11 key: a fresh SoftHSM2 token holds one
// ES256, RS256, PS256 and EdDSA key, the verifier's KeySet is built from their public JWKs (kid =
// RFC 7638 thumbprint, as the ring publishes them), and hostile header/payload TEXTS are signed
// verbatim through Hsm::sign, so duplicates, odd bytes and refused members carry a valid
// signature and only the rule under test can refuse them. Each case asserts the exact Reason.
#include "firmware/jose/base64url.h"
#include "firmware/jose/jwk.h"
#include "firmware/verify/verifier.h"
#include "hsm/hsm.h"
#include "tests/support/softhsm_token.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <dlfcn.h>
// As in tests/hsm: SoftHSM 2.6.1 leaks small OpenSSL objects in C_SignInit and C_GenerateKeyPair.
// LeakSanitizer names the module only while it is mapped (hence RTLD_NODELETE below) and needs
// slow unwinding to reach the module's frames through libcrypto.
extern "C" const char* __lsan_default_suppressions() { return "leak:libsofthsm2.so\n"; }
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }
#endif

namespace signet::verify {
namespace {

using json = nlohmann::json;
using Members = std::vector<std::pair<std::string, std::string>>;  // name, raw JSON value text

constexpr std::int64_t kNow = 1'700'000'000;  // injected as Expectations::now
constexpr std::int64_t kLeeway = 30;

std::string n(std::int64_t v) { return std::to_string(v); }
std::string q(std::string_view s) { return "\"" + std::string(s) + "\""; }  // no escaping: raw

// The members of `base` with `changes` applied (replace by name, append if new, "" drops), then
// `tail` pasted inside the braces untouched (how duplicates get in).
std::string object(Members base, const Members& changes, std::string_view tail = "") {
  for (const auto& [name, value] : changes) {
    auto it = std::find_if(base.begin(), base.end(), [&](const auto& m) { return m.first == name; });
    if (it == base.end()) base.emplace_back(name, value);
    else if (value.empty()) base.erase(it);
    else it->second = value;
  }
  std::string out = "{";
  for (const auto& [name, value] : base) out += (out.size() > 1 ? "," : "") + q(name) + ":" + value;
  return out + std::string(tail) + "}";
}

const Members kClaims = {{"iss", q("https://signet.test")}, {"aud", q("svc-a")}, {"sub", q("user-1")},
                         {"iat", n(kNow - 10)}, {"nbf", n(kNow - 10)}, {"exp", n(kNow + 600)},
                         {"jti", q("j-1")}};

Expectations expectations(std::int64_t leeway = kLeeway) {
  Expectations e;
  e.issuer = "https://signet.test";
  e.audience = "svc-a";
  e.typ = "at+jwt";
  e.leeway_seconds = leeway;
  e.now = kNow;
  return e;
}

// JWS wants r||s, never DER: the two halves of a signature as a DER SEQUENCE of INTEGERs.
std::string as_der(const std::string& sig) {
  auto length = [](std::size_t len) {
    if (len < 128) return std::string(1, static_cast<char>(len));
    if (len < 256) return std::string{'\x81', static_cast<char>(len)};
    return std::string{'\x82', static_cast<char>(len >> 8), static_cast<char>(len & 0xff)};
  };
  auto integer = [&](std::string v) {
    v.erase(0, std::min(v.find_first_not_of('\0'), v.size() - 1));
    if (static_cast<unsigned char>(v[0]) & 0x80) v.insert(0, 1, '\0');
    return "\x02" + length(v.size()) + v;
  };
  const std::string body = integer(sig.substr(0, sig.size() / 2)) + integer(sig.substr(sig.size() / 2));
  return "\x30" + length(body.size()) + body;
}

struct TokenKey {
  hsm::KeyInfo info;
  std::string alg, kid, jwk;
};

class HsmSignedAttacks : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
#if defined(__SANITIZE_ADDRESS__)
    dlopen(signet::testing::softhsm_module_path(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
#endif
    auto token = signet::testing::SoftHsmToken::create();
    ASSERT_TRUE(token.ok()) << token.error().message;
    token_.emplace(std::move(token).value());
    hsm::Options options;
    options.module_path = token_->module_path();
    options.token_label = token_->label();
    options.pin = SecretString(token_->user_pin());
    auto opened = hsm::Hsm::open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    hsm_ = std::move(opened).value();
    std::vector<json> jwks;
    for (hsm::SignScheme scheme : {hsm::SignScheme::kEcdsaP256Sha256, hsm::SignScheme::kRsaPkcs1Sha256,
                                   hsm::SignScheme::kRsaPssSha256, hsm::SignScheme::kEd25519}) {
      std::optional<TokenKey> key = generate(scheme);
      ASSERT_TRUE(key);
      jwks.push_back(json::parse(key->jwk));
      keys_.push_back(std::move(*key));
    }
    const KeySet::Import import = KeySet::from_jwk_objects(jwks);
    ASSERT_TRUE(import.ok) << import.error;
    ASSERT_EQ(import.skipped, 0u) << (import.skipped_why.empty() ? "" : import.skipped_why[0]);
    key_set_ = import.keys;
  }
  static void TearDownTestSuite() {
    keys_.clear();
    hsm_.reset();  // before the token's directory goes
    token_.reset();
  }

  // A key pair born in the token, described as key_ring.cpp's describe() publishes it.
  static std::optional<TokenKey> generate(hsm::SignScheme scheme) {
    auto info = hsm_->generate_key(scheme, 2048);
    if (!info.ok()) {
      ADD_FAILURE() << info.error().message;
      return std::nullopt;
    }
    static const std::map<hsm::SignScheme, jose::Alg> kAlg = {
        {hsm::SignScheme::kRsaPkcs1Sha256, jose::Alg::kRS256}, {hsm::SignScheme::kRsaPssSha256, jose::Alg::kPS256},
        {hsm::SignScheme::kEcdsaP256Sha256, jose::Alg::kES256}, {hsm::SignScheme::kEd25519, jose::Alg::kEdDSA}};
    jose::PublicKey pub;
    pub.alg = kAlg.at(scheme);
    pub.rsa_n = info->rsa_modulus;
    pub.rsa_e = info->rsa_public_exponent;
    pub.ec_x = info->ec_x;
    pub.ec_y = info->ec_y;
    pub.okp_x = info->ed25519_public;
    const std::string kid = jose::thumbprint(pub);
    return TokenKey{*info, std::string(jose::alg_name(pub.alg)), kid, jose::public_jwk_json(pub, kid)};
  }

  // The token's signature over exact bytes (ECDSA arrives as r||s).
  static std::string signature(const TokenKey& key, std::string_view input) {
    unsigned char out[512];
    auto len = hsm_->sign(key.info.ref, input, out, sizeof out);
    if (!len.ok()) {
      ADD_FAILURE() << len.error().message;
      return {};
    }
    return std::string(reinterpret_cast<const char*>(out), *len);
  }
  static std::string input(std::string_view header, std::string_view payload) {
    return jose::base64url_encode(header) + "." + jose::base64url_encode(payload);
  }
  // b64(header).b64(payload).b64(sig), the texts taken verbatim.
  static std::string sign(const TokenKey& key, std::string_view header, std::string_view payload) {
    const std::string in = input(header, payload);
    return in + "." + jose::base64url_encode(signature(key, in));
  }
  static std::string header(const TokenKey& key, const Members& changes = {}, std::string_view tail = "") {
    return object({{"alg", q(key.alg)}, {"kid", q(key.kid)}, {"typ", q("at+jwt")}}, changes, tail);
  }
  static VerifyResult check(const std::string& token, const Expectations& e = expectations()) {
    return verify(key_set_, token, e);
  }

  static inline std::optional<signet::testing::SoftHsmToken> token_;
  static inline std::unique_ptr<hsm::Hsm> hsm_;
  static inline std::vector<TokenKey> keys_;  // ES256, RS256, PS256, EdDSA
  static inline KeySet key_set_;
};

struct Case {
  const char* name;
  Members header = {};            // changes to the control header {alg, kid, typ:"at+jwt"}
  Members claims = {};            // changes to kClaims
  Reason want = Reason::kOk;
  const char* header_tail = "";   // raw text inside the header's braces
  const char* claims_tail = "";
  std::int64_t leeway = kLeeway;
  void (*tamper_signature)(std::string& raw) = nullptr;  // after signing
  void (*tamper_token)(std::string& token) = nullptr;    // after encoding
};

const std::vector<Case>& cases() {
  using R = Reason;
  static const std::vector<Case> kCases = {
      {.name = "control"},
      // Duplicates: rejection, not last-wins, so no other parser can read a different token.
      {.name = "header alg twice", .want = R::kMalformed, .header_tail = R"(,"alg":"none")"},
      {.name = "payload sub twice", .claims = {{"sub", q("a")}}, .want = R::kMalformed, .claims_tail = R"(,"sub":"admin")"},
      {.name = "crit [x] with x", .header = {{"crit", R"(["x"])"}, {"x", "1"}}, .want = R::kMalformed},
      {.name = "crit []", .header = {{"crit", "[]"}}, .want = R::kMalformed},
      {.name = "crit [b64], b64 false", .header = {{"crit", R"(["b64"])"}, {"b64", "false"}}, .want = R::kMalformed},
      {.name = "crit as a string", .header = {{"crit", q("x")}, {"x", "1"}}, .want = R::kMalformed},
      {.name = "b64 false without crit", .header = {{"b64", "false"}}, .want = R::kMalformed},
      // typ: compared ignoring case and an "application/" prefix; absent or other types refused.
      {.name = "typ JWT", .header = {{"typ", q("JWT")}}, .want = R::kWrongType},
      {.name = "typ absent", .header = {{"typ", ""}}, .want = R::kWrongType},
      {.name = "typ id+jwt", .header = {{"typ", q("id+jwt")}}, .want = R::kWrongType},
      {.name = "typ application/at+jwt", .header = {{"typ", q("application/at+jwt")}}},
      {.name = "typ AT+JWT", .header = {{"typ", q("AT+JWT")}}},
      {.name = "typ not a string", .header = {{"typ", "1"}}, .want = R::kMalformed},
      // Time: expired when now >= exp + leeway; so exp == now is expired only without leeway.
      {.name = "exp=now, leeway 0", .claims = {{"exp", n(kNow)}}, .want = R::kExpired, .leeway = 0},
      {.name = "exp=now, leeway L", .claims = {{"exp", n(kNow)}}},
      {.name = "exp=now-L", .claims = {{"exp", n(kNow - kLeeway)}}, .want = R::kExpired},
      {.name = "exp=now-L-1", .claims = {{"exp", n(kNow - kLeeway - 1)}}, .want = R::kExpired},
      {.name = "exp=now-L+1", .claims = {{"exp", n(kNow - kLeeway + 1)}}},
      {.name = "exp as a string", .claims = {{"exp", q("123")}}, .want = R::kMalformed},
      {.name = "exp 1e30", .claims = {{"exp", "1e30"}}, .want = R::kMalformed},
      {.name = "exp absent", .claims = {{"exp", ""}}, .want = R::kMalformed},
      {.name = "nbf=now+L+1", .claims = {{"nbf", n(kNow + kLeeway + 1)}}, .want = R::kNotYetValid},
      {.name = "nbf=now+L", .claims = {{"nbf", n(kNow + kLeeway)}}},
      {.name = "iat=now+L+1", .claims = {{"iat", n(kNow + kLeeway + 1)}}, .want = R::kNotYetValid},
      {.name = "iat=now+L", .claims = {{"iat", n(kNow + kLeeway)}}},
      // aud: exact, case-sensitive; an array holding a non-string is a claim of the wrong type.
      {.name = "aud [svc-b,svc-a]", .claims = {{"aud", R"(["svc-b","svc-a"])"}}},
      {.name = "aud [svc-b]", .claims = {{"aud", R"(["svc-b"])"}}, .want = R::kWrongAudience},
      {.name = "aud []", .claims = {{"aud", "[]"}}, .want = R::kWrongAudience},
      {.name = "aud [a,1]", .claims = {{"aud", R"(["a",1])"}}, .want = R::kMalformed},
      {.name = "aud Svc-A", .claims = {{"aud", q("Svc-A")}}, .want = R::kWrongAudience},
      {.name = "aud 'svc-a '", .claims = {{"aud", q("svc-a ")}}, .want = R::kWrongAudience},
      {.name = "aud absent", .claims = {{"aud", ""}}, .want = R::kWrongAudience},
      {.name = "iss trailing slash", .claims = {{"iss", q("https://signet.test/")}}, .want = R::kWrongIssuer},
      // Members that would make the token mean something else elsewhere: refused, never used.
      {.name = "cty JWT", .header = {{"cty", q("JWT")}}, .want = R::kMalformed},
      {.name = "jku", .header = {{"jku", q("https://attacker.test/jwks.json")}}, .want = R::kMalformed},
      {.name = "x5u", .header = {{"x5u", q("https://attacker.test/cert.pem")}}, .want = R::kMalformed},
      {.name = "x5c", .header = {{"x5c", R"(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"])"}}, .want = R::kMalformed},
      {.name = "jwk", .header = {{"jwk", R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})"}}, .want = R::kMalformed},
      // alg comes from the key: none (any case) and HS256 are refused even with the real kid.
      {.name = "alg none", .header = {{"alg", q("none")}}, .want = R::kAlgNotAllowed},
      {.name = "alg None", .header = {{"alg", q("None")}}, .want = R::kAlgNotAllowed},
      {.name = "alg nOnE", .header = {{"alg", q("nOnE")}}, .want = R::kAlgNotAllowed},
      {.name = "alg none, no signature", .header = {{"alg", q("none")}}, .want = R::kAlgNotAllowed,
       .tamper_signature = [](std::string& s) { s.clear(); }},
      {.name = "alg HS256", .header = {{"alg", q("HS256")}}, .want = R::kAlgNotAllowed},
      // kid is an opaque map key: never a path, query or URL.
      {.name = "kid path", .header = {{"kid", q("../../../../dev/null")}}, .want = R::kUnknownKid},
      {.name = "kid sql", .header = {{"kid", q("' OR '1'='1")}}, .want = R::kUnknownKid},
      {.name = "kid command", .header = {{"kid", q("|id")}}, .want = R::kUnknownKid},
      {.name = "kid url", .header = {{"kid", q("http://x")}}, .want = R::kUnknownKid},
      {.name = "kid empty", .header = {{"kid", q("")}}, .want = R::kMalformed},
      // RFC 8725 §3.7 (Tink's cases): strict UTF-8, surrogates paired.
      {.name = "sub invalid UTF-8", .claims = {{"sub", q("\xc2")}}, .want = R::kMalformed},
      {.name = "sub lone surrogate", .claims = {{"sub", q(R"(\uD834)")}}, .want = R::kMalformed},
      {.name = "sub U+1D11E escaped", .claims = {{"sub", q(R"(\uD834\uDD1E)")}}},
      {.name = "sub U+1D11E raw", .claims = {{"sub", q("\xF0\x9D\x84\x9E")}}},
      {.name = "typ invalid UTF-8", .header = {{"typ", q("at+jwt\xc2")}}, .want = R::kMalformed},
      // Signature first: a broken signature is reported as such whatever the claims say.
      {.name = "flipped byte", .want = R::kBadSignature, .tamper_signature = [](std::string& s) { s[7] ^= 1; }},
      {.name = "flipped byte, expired", .claims = {{"exp", n(kNow - 3600)}}, .want = R::kBadSignature,
       .tamper_signature = [](std::string& s) { s[7] ^= 1; }},
      {.name = "flipped byte, payload sub twice", .want = R::kBadSignature, .claims_tail = R"(,"sub":"admin")",
       .tamper_signature = [](std::string& s) { s.back() ^= 0x80; }},
      {.name = "zero signature", .want = R::kBadSignature, .tamper_signature = [](std::string& s) { s.assign(s.size(), '\0'); }},
      {.name = "signature as DER", .want = R::kBadSignature, .tamper_signature = [](std::string& s) { s = as_der(s); }},
      {.name = "signature one byte short", .want = R::kBadSignature, .tamper_signature = [](std::string& s) { s.pop_back(); }},
      {.name = "signature one byte long", .want = R::kBadSignature, .tamper_signature = [](std::string& s) { s.push_back('\0'); }},
      {.name = "signature empty", .want = R::kBadSignature, .tamper_signature = [](std::string& s) { s.clear(); }},
      // Strict base64url on the genuine signature: one accepted encoding per byte string.
      {.name = "padding appended", .want = R::kMalformed, .tamper_token = [](std::string& t) { t += "="; }},
      {.name = "newline inserted", .want = R::kMalformed, .tamper_token = [](std::string& t) { t.insert(t.size() - 4, "\n"); }},
      {.name = "unused bits set", .want = R::kMalformed, .tamper_token = [](std::string& t) {
         // Every signature here (64 or 256 bytes) leaves 4 unused bits in its last character.
         static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
         t.back() = kAlphabet[kAlphabet.find(t.back()) ^ 1];
       }},
  };
  return kCases;
}

TEST_F(HsmSignedAttacks, EachCaseGivesItsReasonForEveryTokenKey) {
  for (const TokenKey& key : keys_) {
    for (const Case& c : cases()) {
      SCOPED_TRACE(key.alg + ": " + c.name);
      const std::string head = header(key, c.header, c.header_tail);
      const std::string payload = object(kClaims, c.claims, c.claims_tail);
      const std::string in = input(head, payload);
      std::string sig = signature(key, in);
      if (c.tamper_signature) c.tamper_signature(sig);
      std::string token = in + "." + jose::base64url_encode(sig);
      if (c.tamper_token) c.tamper_token(token);
      const VerifyResult r = check(token, expectations(c.leeway));
      EXPECT_EQ(to_string(r.reason), to_string(c.want));
      EXPECT_EQ(r.valid, c.want == Reason::kOk);
      if (c.want == Reason::kOk) {
        EXPECT_EQ(r.kid, key.kid);
        EXPECT_EQ(r.claims, json::parse(payload));  // the claims come back as signed
      }
    }
  }
}

// The key's record decides the algorithm. A token key's signature under another key's kid: with
// the signer's alg it never reaches the signature (the kid's key is bound to another alg); with
// the alg relabelled to match that kid, the signature is checked with the kid's key and fails.
TEST_F(HsmSignedAttacks, AnotherKeysKidNeverLendsItsTrust) {
  for (const TokenKey& signer : keys_) {
    for (const TokenKey& other : keys_) {
      if (&signer == &other) continue;
      SCOPED_TRACE(signer.alg + " signing as " + other.alg);
      const std::string payload = object(kClaims, {});
      EXPECT_EQ(check(sign(signer, header(signer, {{"kid", q(other.kid)}}), payload)).reason, Reason::kAlgNotAllowed);
      EXPECT_EQ(check(sign(signer, header(other), payload)).reason, Reason::kBadSignature);
      EXPECT_EQ(check(sign(signer, header(signer, {{"alg", q(other.alg)}}), payload)).reason, Reason::kAlgNotAllowed);
    }
  }
}

TEST_F(HsmSignedAttacks, SignatureOverAnotherPayloadRefused) {
  for (const TokenKey& key : keys_) {
    SCOPED_TRACE(key.alg);
    const std::string head = header(key);
    const std::string mine = sign(key, head, object(kClaims, {}));
    const std::string admin = sign(key, head, object(kClaims, {{"sub", q("admin")}}));
    const std::string spliced = admin.substr(0, admin.rfind('.')) + mine.substr(mine.rfind('.'));
    EXPECT_EQ(check(mine).reason, Reason::kOk);
    EXPECT_EQ(check(spliced).reason, Reason::kBadSignature);
  }
}

// RFC 7519 §7.2 step 10 is not supported: the payload is another (valid) token, and the verifier
// neither recurses with cty nor reads the inner token as claims without it.
TEST_F(HsmSignedAttacks, NestedJwtRefusedAndNeverRecursed) {
  const TokenKey& key = keys_.front();
  const std::string inner = sign(key, header(key), object(kClaims, {}));
  ASSERT_EQ(check(inner).reason, Reason::kOk);
  EXPECT_EQ(check(sign(key, header(key, {{"cty", q("JWT")}}), inner)).reason, Reason::kMalformed);
  EXPECT_EQ(check(sign(key, header(key), inner)).reason, Reason::kMalformed);
}

// CVE-2018-0114 class: a key generated by the attacker (here: in the same token, but absent from
// the key set), embedded as `jwk` and used to sign. Refused with it; unknown without it.
TEST_F(HsmSignedAttacks, EmbeddedJwkOfAnUntrustedKeyRefused) {
  std::optional<TokenKey> rogue = generate(hsm::SignScheme::kEcdsaP256Sha256);
  ASSERT_TRUE(rogue);
  const std::string payload = object(kClaims, {});
  EXPECT_EQ(check(sign(*rogue, header(*rogue, {{"jwk", rogue->jwk}}), payload)).reason, Reason::kMalformed);
  EXPECT_EQ(check(sign(*rogue, header(*rogue), payload)).reason, Reason::kUnknownKid);
  ASSERT_TRUE(hsm_->destroy_key(rogue->info.id).ok());
}

TEST_F(HsmSignedAttacks, Utf16PayloadRefused) {
  const TokenKey& key = keys_.front();
  std::string utf16;
  for (char c : object(kClaims, {})) utf16 += std::string{c, '\0'};  // UTF-16LE of ASCII text
  EXPECT_EQ(check(sign(key, header(key), "\xFF\xFE" + utf16)).reason, Reason::kMalformed);
  EXPECT_EQ(check(sign(key, header(key), utf16)).reason, Reason::kMalformed);
}

// SECURITY.md §1c: PKCS#11 requires 2·nLen bytes from C_Sign, but modules that drop leading zero
// bytes exist. A short r or s happens once in 128 signatures, so 10,000 tokens would surface it;
// the verifier accepts exactly 64 bytes, so every token verifying shows the padding holds.
TEST_F(HsmSignedAttacks, TenThousandEs256TokensAllVerify) {
  constexpr int kTokens = 10'000;
  const TokenKey& key = keys_.front();
  ASSERT_EQ(key.alg, "ES256");
  const std::string head = header(key);
  std::vector<std::string> tokens;
  tokens.reserve(kTokens);
  int not_64 = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kTokens; ++i) {
    const std::string in = input(head, object(kClaims, {{"jti", q("j-" + n(i))}}));
    const std::string sig = signature(key, in);
    not_64 += sig.size() != 64;
    tokens.push_back(in + "." + jose::base64url_encode(sig));
  }
  const auto t1 = std::chrono::steady_clock::now();
  int refused = 0;
  for (const std::string& token : tokens) refused += !check(token).valid;
  const auto t2 = std::chrono::steady_clock::now();
  EXPECT_EQ(not_64, 0);
  EXPECT_EQ(refused, 0);
  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::printf("[ timing ] %d ES256 tokens: signed by SoftHSM in %.0f ms, verified in %.0f ms\n", kTokens,
              ms(t1 - t0), ms(t2 - t1));
}

}  // namespace
}  // namespace signet::verify
