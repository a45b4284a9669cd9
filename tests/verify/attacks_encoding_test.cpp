// SECURITY.md §1a, encoding attacks: psychic signatures and out-of-range r/s, DER and wrong-length
// ECDSA signatures, non-canonical base64url, duplicate JSON members, invalid UTF-8 and lone
// surrogates, size and depth caps, wrong segment counts. Valid signatures over hostile payloads
// come from software keys made in the test.
#include "base/hex.h"
#include "firmware/jose/base64url.h"
#include "firmware/verify/strict_json.h"
#include "firmware/verify/verifier.h"
#include "tests/verify/software_key.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

namespace signet::verify {
namespace {

using json = nlohmann::json;
using testing::b64;
using testing::es256_key;

VerifyResult check(const std::string& token) {
  return verify(testing::all_keys(), token, testing::expectations());
}

std::string input_of(const std::string& token) { return token.substr(0, token.rfind('.')); }
std::string sig_of(const std::string& token) {
  return *jose::base64url_decode(token.substr(token.rfind('.') + 1));
}
std::string good_es256() { return es256_key().token(es256_key().header(), testing::good_claims()); }

std::string unhex(const char* digits) {
  auto bytes = hex::decode(digits);
  if (!bytes) throw std::invalid_argument(std::string("not hex: ") + digits);
  return *std::move(bytes);
}

TEST(Signature, GoodTokenAcceptedAsBaseline) {
  EXPECT_TRUE(check(good_es256()).valid);
}

TEST(Signature, PsychicAndOutOfRangeEcdsaRefused) {
  const std::string input = input_of(good_es256());
  const std::string n = unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  const std::string real = sig_of(good_es256());
  const std::string zero(32, '\0');
  for (const std::string& sig : {std::string(64, '\0'), zero + real.substr(32), real.substr(0, 32) + zero,
                                 n + real.substr(32), real.substr(0, 32) + n, n + n,
                                 std::string(64, '\xff')}) {
    EXPECT_EQ(check(input + "." + b64(sig)).reason, Reason::kBadSignature);
  }
  EXPECT_EQ(check(input + "." + std::string(86, 'A')).reason, Reason::kBadSignature);  // 64 zero bytes
}

TEST(Signature, DerAndWrongLengthEcdsaRefused) {
  const std::string token = good_es256();
  const std::string raw = sig_of(token);
  ECDSA_SIG* ecdsa = ECDSA_SIG_new();
  ECDSA_SIG_set0(ecdsa, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(ecdsa, &der);
  const std::string der_sig(reinterpret_cast<char*>(der), static_cast<std::size_t>(der_len));
  OPENSSL_free(der);
  ECDSA_SIG_free(ecdsa);
  const std::string input = input_of(token);
  for (const std::string& sig : {der_sig, raw.substr(0, 63), raw.substr(1), raw + std::string(1, '\0'),
                                 std::string(1, '\0') + raw, raw + raw, std::string()}) {
    EXPECT_EQ(check(input + "." + b64(sig)).reason, Reason::kBadSignature) << sig.size();
  }
}

TEST(Signature, RsaSignatureOfWrongLengthRefused) {
  const auto& key = testing::rs256_key();
  const std::string token = key.token(key.header(), testing::good_claims());
  ASSERT_TRUE(check(token).valid);
  const std::string sig = sig_of(token);
  for (const std::string& bad : {std::string(1, '\0') + sig, sig.substr(1), sig + std::string(1, '\0')}) {
    EXPECT_EQ(check(input_of(token) + "." + b64(bad)).reason, Reason::kBadSignature);
  }
}

TEST(Base64url, NonCanonicalFormsRefused) {
  const std::string token = good_es256();
  // 64 signature bytes -> 86 characters; the last carries 4 unused bits, which must be zero.
  std::string unused_bits = token;
  char& last = unused_bits.back();
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  last = alphabet[alphabet.find(last) | 1];
  EXPECT_EQ(check(unused_bits).reason, Reason::kMalformed);

  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot = token.find('.', first_dot + 1);
  std::vector<std::string> bad = {token + "=", token + "==", token + "\n", " " + token, token + " ",
                                  token.substr(0, first_dot) + "=" + token.substr(first_dot),
                                  token.substr(0, second_dot) + "\n" + token.substr(second_dot),
                                  token.substr(0, 10) + " " + token.substr(10),
                                  token.substr(0, 10) + "\r\n" + token.substr(10)};
  // '-' -> '+' and '_' -> '/': the standard alphabet is not base64url.
  for (const auto& [from, to] : {std::pair{'-', '+'}, std::pair{'_', '/'}}) {
    std::string swapped = token;
    for (char& c : swapped) {
      if (c == from) c = to;
    }
    if (swapped != token) bad.push_back(swapped);
  }
  for (const std::string& t : bad) EXPECT_EQ(check(t).reason, Reason::kMalformed) << t;
}

TEST(Json, DuplicateMembersRefusedInHeaderAndPayload) {
  const auto& key = es256_key();
  for (const char* header : {R"({"alg":"ES256","alg":"none","kid":"es-1"})",
                             R"({"alg":"ES256","kid":"es-1","kid":"es-1","typ":"signet+jwt"})",
                             R"({"alg":"ES256","kid":"es-1","typ":"signet+jwt","typ":"signet+jwt"})"}) {
    EXPECT_EQ(check(key.token(header, testing::good_claims())).reason, Reason::kMalformed) << header;
  }
  json claims = json::parse(testing::good_claims());
  std::string text = claims.dump();
  text.pop_back();
  for (const std::string& extra : {std::string(R"(,"sub":"admin"})"), std::string(R"(,"exp":99999999999})"),
                                   std::string(R"(,"x":{"a":1,"a":2}})")}) {
    EXPECT_EQ(check(key.token(key.header(), text + extra)).reason, Reason::kMalformed) << extra;
  }
}

TEST(Json, InvalidUtf8AndLoneSurrogatesRefused) {
  const auto& key = es256_key();
  std::string base = testing::good_claims();
  base.pop_back();
  for (const std::string& member : {std::string(",\"name\":\"\xc2\"}"), std::string(",\"name\":\"\\uD834\"}"),
                                    std::string(",\"name\":\"\\uDD1E\"}"), std::string(",\"name\":\"\xc0\xaf\"}"),
                                    std::string(",\"name\":\"\xed\xa0\x80\"}"), std::string(",\"name\":\"\xff\"}")}) {
    EXPECT_EQ(check(key.token(key.header(), base + member)).reason, Reason::kMalformed);
  }
  // A UTF-16 payload and a byte-order mark.
  std::string utf16;
  for (char c : testing::good_claims()) utf16 += std::string{c, '\0'};
  EXPECT_EQ(check(key.token(key.header(), utf16)).reason, Reason::kMalformed);
  EXPECT_EQ(check(key.token(key.header(), "\xef\xbb\xbf" + testing::good_claims())).reason, Reason::kMalformed);
  // U+1D11E, escaped as a pair and raw: fine.
  for (const std::string& member : {std::string(",\"name\":\"\\uD834\\uDD1E\"}"), std::string(",\"name\":\"\xf0\x9d\x84\x9e\"}")}) {
    EXPECT_TRUE(check(key.token(key.header(), base + member)).valid);
  }
}

TEST(Caps, DepthCapWhileParsing) {
  const auto& key = es256_key();
  auto nested = [](int depth) { return std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']'); };
  std::string base = testing::good_claims();
  base.pop_back();
  // The claims object is level 1: 31 nested arrays reach the cap of 32, 32 exceed it.
  EXPECT_TRUE(check(key.token(key.header(), base + ",\"x\":" + nested(31) + "}")).valid);
  EXPECT_EQ(check(key.token(key.header(), base + ",\"x\":" + nested(32) + "}")).reason, Reason::kMalformed);

  std::string deep;
  for (int i = 0; i < 10'000; ++i) deep += "{\"a\":";
  deep += "1" + std::string(10'000, '}');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(internal::parse_strict_json(deep));
  EXPECT_EQ(check(key.token(key.header(), deep)).reason, Reason::kMalformed);  // also over 8 KiB
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Caps, TokenAndHeaderSize) {
  const auto& key = es256_key();
  for (std::size_t size : {std::size_t{64 * 1024}, std::size_t{1024 * 1024}}) {
    json claims = json::parse(testing::good_claims());
    claims["pad"] = std::string(size, 'p');
    const std::string token = key.token(key.header(), claims.dump());
    EXPECT_EQ(check(token).reason, Reason::kMalformed) << size;
    // Refused on its length alone: 1,000 tries take far less than the bound even on a busy CI box.
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 1000; ++i) (void)check(token);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  }
  // Just under and over the 8 KiB token cap, with valid signatures.
  json claims = json::parse(testing::good_claims());
  claims["pad"] = std::string(5000, 'p');
  EXPECT_TRUE(check(key.token(key.header(), claims.dump())).valid);
  claims["pad"] = std::string(6500, 'p');
  EXPECT_EQ(check(key.token(key.header(), claims.dump())).reason, Reason::kMalformed);
  // A header over 1 KiB.
  json header = json::parse(key.header());
  header["pad"] = std::string(1100, 'h');
  EXPECT_EQ(check(key.token(header.dump(), testing::good_claims())).reason, Reason::kMalformed);
  header["pad"] = std::string(900, 'h');
  EXPECT_TRUE(check(key.token(header.dump(), testing::good_claims())).valid);
}

TEST(Structure, ExactlyThreeNonEmptyParts) {
  const std::string token = good_es256();
  const std::string h = token.substr(0, token.find('.'));
  const std::string s = token.substr(token.rfind('.') + 1);
  const std::string p = token.substr(h.size() + 1, token.size() - h.size() - s.size() - 2);
  for (const std::string& t : {std::string(), std::string("."), std::string(".."), std::string("..."),
                               h + "." + p, h + "." + p + "." + s + "." + s, h + "." + p + "." + s + ".",
                               "." + p + "." + s, h + ".." + s, h, h + "." + p + "." + s + "." + p + "." + s}) {
    EXPECT_EQ(check(t).reason, Reason::kMalformed) << t;
  }
  // An empty signature is well-formed and simply wrong.
  EXPECT_EQ(check(h + "." + p + ".").reason, Reason::kBadSignature);
}

}  // namespace
}  // namespace signet::verify
