#include "firmware/jose/jwk.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "firmware/jose/base64url.h"
#include "firmware/jose/jws.h"

namespace signet::jose {
namespace {

// RFC 7638 §3.1: the example RSA key and its thumbprint.
constexpr const char* kRfc7638N =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs"
    "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajr"
    "n1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

PublicKey rfc7638_key() {
  PublicKey key;
  key.alg = Alg::kRS256;
  key.rsa_n = *base64url_decode(kRfc7638N);
  key.rsa_e = *base64url_decode("AQAB");
  return key;
}

TEST(Thumbprint, Rfc7638KnownAnswer) {
  EXPECT_EQ(thumbprint(rfc7638_key()), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(Thumbprint, IgnoresLeadingZeroBytesOfRsaIntegers) {
  PublicKey padded = rfc7638_key();
  padded.rsa_n.insert(0, 1, '\0');
  padded.rsa_e.insert(0, 2, '\0');
  EXPECT_EQ(thumbprint(padded), thumbprint(rfc7638_key()));
}

TEST(Thumbprint, DependsOnTheKey) {
  PublicKey other = rfc7638_key();
  other.rsa_n.back() ^= 1;
  EXPECT_NE(thumbprint(other), thumbprint(rfc7638_key()));
}

TEST(PublicJwk, HoldsOnlyPublicMembers) {
  const auto jwk = nlohmann::json::parse(public_jwk_json(rfc7638_key(), "kid-1"));
  EXPECT_EQ(jwk["kty"], "RSA");
  EXPECT_EQ(jwk["kid"], "kid-1");
  EXPECT_EQ(jwk["use"], "sig");
  EXPECT_EQ(jwk["alg"], "RS256");
  EXPECT_EQ(jwk["e"], "AQAB");
  EXPECT_EQ(jwk["n"], kRfc7638N);
  EXPECT_EQ(jwk.size(), 6u);
}

TEST(PublicJwk, EcAndOkpMembers) {
  PublicKey ec;
  ec.alg = Alg::kES256;
  ec.ec_x = std::string(32, '\x01');
  ec.ec_y = std::string(32, '\0');  // a coordinate keeps its full 32 bytes, leading zeros too
  const auto jwk = nlohmann::json::parse(public_jwk_json(ec, thumbprint(ec)));
  EXPECT_EQ(jwk["crv"], "P-256");
  EXPECT_EQ(jwk["x"].get<std::string>().size(), 43u);
  EXPECT_EQ(jwk["y"].get<std::string>().size(), 43u);
  PublicKey ed;
  ed.alg = Alg::kEdDSA;
  ed.okp_x = std::string(32, '\x02');
  const auto okp = nlohmann::json::parse(public_jwk_json(ed, "k"));
  EXPECT_EQ(okp["kty"], "OKP");
  EXPECT_EQ(okp["crv"], "Ed25519");
  EXPECT_EQ(okp["alg"], "EdDSA");
}

TEST(Jws, HeaderHasAlgKidTypInOrder) {
  const auto header = base64url_decode(encode_header(Alg::kES256, "abc", "at+jwt"));
  ASSERT_TRUE(header);
  EXPECT_EQ(*header, R"({"alg":"ES256","kid":"abc","typ":"at+jwt"})");
}

TEST(Jws, CompactSerialization) {
  std::string token;
  begin_compact("aGVhZGVy", R"({"sub":"x"})", token);
  EXPECT_EQ(token, "aGVhZGVy." + base64url_encode(R"({"sub":"x"})"));
  finish_compact(std::string("\x01\x02\x03", 3), token);
  EXPECT_EQ(token, "aGVhZGVy." + base64url_encode(R"({"sub":"x"})") + ".AQID");
}

TEST(Alg, NamesRoundTrip) {
  for (Alg alg : {Alg::kRS256, Alg::kPS256, Alg::kES256, Alg::kEdDSA}) EXPECT_EQ(parse_alg(alg_name(alg)), alg);
  EXPECT_FALSE(parse_alg("none"));
  EXPECT_FALSE(parse_alg("es256"));
  EXPECT_FALSE(parse_alg("HS256"));
}

}  // namespace
}  // namespace signet::jose
