// SECURITY.md §1a, claims: exp/nbf/iat edges with leeway, aud forms, iss exactness, typ and
// profile, and "signature before claims". Every token carries a valid software-key signature, so
// only the rule under test can refuse it.
#include "firmware/verify/verifier.h"
#include "tests/verify/software_key.h"

#include <gtest/gtest.h>

namespace signet::verify {
namespace {

using json = nlohmann::json;
using testing::kNow;

constexpr std::int64_t kLeeway = 30;

json claims() { return json::parse(testing::good_claims()); }

VerifyResult check_claims(const json& c, Expectations e = testing::expectations(),
                          const std::string& header = testing::es256_key().header()) {
  return verify(testing::all_keys(), testing::es256_key().token(header, c.dump()), e);
}
Reason reason_for(const json& c, Expectations e = testing::expectations()) { return check_claims(c, e).reason; }

json with(const char* name, json value) {
  json c = claims();
  c[name] = std::move(value);
  return c;
}
json without(const char* name) {
  json c = claims();
  c.erase(name);
  return c;
}

TEST(Reasons, NamesAreThoseOfApiMd) {
  EXPECT_EQ(to_string(Reason::kMalformed), "malformed");
  EXPECT_EQ(to_string(Reason::kUnknownKid), "unknown_kid");
  EXPECT_EQ(to_string(Reason::kBadSignature), "bad_signature");
  EXPECT_EQ(to_string(Reason::kExpired), "expired");
  EXPECT_EQ(to_string(Reason::kNotYetValid), "not_yet_valid");
  EXPECT_EQ(to_string(Reason::kWrongIssuer), "wrong_issuer");
  EXPECT_EQ(to_string(Reason::kWrongAudience), "wrong_audience");
  EXPECT_EQ(to_string(Reason::kWrongType), "wrong_type");
  EXPECT_EQ(to_string(Reason::kAlgNotAllowed), "alg_not_allowed");
}

TEST(Valid, EachAlgorithmAcceptedWithClaimsAndKid) {
  for (const testing::SoftwareKey* key : {&testing::es256_key(), &testing::rs256_key(),
                                          &testing::ps256_key(), &testing::eddsa_key()}) {
    const VerifyResult r = verify(testing::all_keys(), key->token(key->header(), testing::good_claims()),
                                  testing::expectations());
    EXPECT_TRUE(r.valid) << key->alg();
    EXPECT_EQ(r.reason, Reason::kOk);
    EXPECT_EQ(r.kid, key->kid());
    EXPECT_EQ(r.claims, claims());
  }
}

TEST(Time, ExpEdgesWithLeeway) {
  Expectations no_leeway = testing::expectations();
  no_leeway.leeway_seconds = 0;
  EXPECT_EQ(reason_for(with("exp", kNow), no_leeway), Reason::kExpired);  // equality is expired
  EXPECT_EQ(reason_for(with("exp", kNow + 1), no_leeway), Reason::kOk);
  EXPECT_EQ(reason_for(with("exp", kNow - kLeeway)), Reason::kExpired);
  EXPECT_EQ(reason_for(with("exp", kNow - kLeeway - 1)), Reason::kExpired);
  EXPECT_EQ(reason_for(with("exp", kNow - kLeeway + 1)), Reason::kOk);
  EXPECT_EQ(reason_for(with("exp", 253402300799)), Reason::kOk);
  EXPECT_EQ(reason_for(with("exp", static_cast<double>(kNow) + 0.5), no_leeway), Reason::kOk);
  Expectations negative = testing::expectations();
  negative.leeway_seconds = -100;  // treated as 0
  EXPECT_EQ(reason_for(with("exp", kNow), negative), Reason::kExpired);
}

TEST(Time, BadExpValuesMalformed) {
  for (const json& bad : {json("123"), json(1e30), json(253402300800), json(true), json(nullptr),
                          json::array({kNow + 600}), json::object()}) {
    EXPECT_EQ(reason_for(with("exp", bad)), Reason::kMalformed) << bad.dump();
  }
  EXPECT_EQ(reason_for(without("exp")), Reason::kMalformed);  // exp is required
  // Infinity is not JSON at all, and 1e400 overflows: both refused by the parser.
  std::string text = claims().dump();
  for (const char* v : {"Infinity", "1e400", "NaN"}) {
    std::string t = text;
    t.replace(t.find("\"exp\":") + 6, std::to_string(kNow + 600).size(), v);
    EXPECT_EQ(verify(testing::all_keys(), testing::es256_key().token(testing::es256_key().header(), t),
                     testing::expectations()).reason, Reason::kMalformed) << v;
  }
}

TEST(Time, NbfAndIatWithLeeway) {
  EXPECT_EQ(reason_for(with("nbf", kNow + kLeeway)), Reason::kOk);
  EXPECT_EQ(reason_for(with("nbf", kNow + kLeeway + 1)), Reason::kNotYetValid);
  EXPECT_EQ(reason_for(with("iat", kNow + kLeeway)), Reason::kOk);
  EXPECT_EQ(reason_for(with("iat", kNow + kLeeway + 1)), Reason::kNotYetValid);
  EXPECT_EQ(reason_for(without("nbf")), Reason::kOk);
  EXPECT_EQ(reason_for(without("iat")), Reason::kOk);
  for (const char* name : {"nbf", "iat"}) {
    EXPECT_EQ(reason_for(with(name, "0")), Reason::kMalformed) << name;
    EXPECT_EQ(reason_for(with(name, 1e30)), Reason::kMalformed) << name;
  }
}

TEST(Audience, StringOrArrayExactMatch) {
  EXPECT_EQ(reason_for(with("aud", json::array({"svc-b", "svc-a"}))), Reason::kOk);
  EXPECT_EQ(reason_for(with("aud", json::array({"svc-b"}))), Reason::kWrongAudience);
  EXPECT_EQ(reason_for(with("aud", json::array())), Reason::kWrongAudience);
  EXPECT_EQ(reason_for(with("aud", "Svc-A")), Reason::kWrongAudience);
  EXPECT_EQ(reason_for(with("aud", "svc-a ")), Reason::kWrongAudience);
  EXPECT_EQ(reason_for(without("aud")), Reason::kWrongAudience);
  // Wrong JSON types are malformed (documented choice: the same rule as for time claims).
  EXPECT_EQ(reason_for(with("aud", json::array({"svc-a", 1}))), Reason::kMalformed);
  EXPECT_EQ(reason_for(with("aud", 5)), Reason::kMalformed);
  EXPECT_EQ(reason_for(with("aud", json::object({{"svc-a", true}}))), Reason::kMalformed);
  Expectations any_audience = testing::expectations();
  any_audience.audience.reset();
  EXPECT_EQ(reason_for(without("aud"), any_audience), Reason::kOk);
}

TEST(Issuer, ExactEquality) {
  EXPECT_EQ(reason_for(with("iss", "https://signet.test/")), Reason::kWrongIssuer);
  EXPECT_EQ(reason_for(with("iss", "https://SIGNET.test")), Reason::kWrongIssuer);
  EXPECT_EQ(reason_for(without("iss")), Reason::kWrongIssuer);
  EXPECT_EQ(reason_for(with("iss", 5)), Reason::kMalformed);
  EXPECT_EQ(reason_for(with("sub", 5)), Reason::kMalformed);
  EXPECT_EQ(reason_for(with("jti", json::array())), Reason::kMalformed);
}

TEST(Type, TypIgnoresCaseAndApplicationPrefix) {
  const auto& key = testing::es256_key();
  auto with_typ = [&](const json& typ) {
    json header = {{"alg", "ES256"}, {"kid", "es-1"}};
    if (!typ.is_null()) header["typ"] = typ;
    return check_claims(claims(), testing::expectations(), header.dump()).reason;
  };
  EXPECT_EQ(with_typ("signet+jwt"), Reason::kOk);
  EXPECT_EQ(with_typ("SIGNET+JWT"), Reason::kOk);
  EXPECT_EQ(with_typ("application/signet+jwt"), Reason::kOk);
  EXPECT_EQ(with_typ("Application/Signet+JWT"), Reason::kOk);
  EXPECT_EQ(with_typ("JWT"), Reason::kWrongType);
  EXPECT_EQ(with_typ("id+jwt"), Reason::kWrongType);
  EXPECT_EQ(with_typ("at+jwt"), Reason::kWrongType);
  EXPECT_EQ(with_typ(nullptr), Reason::kWrongType);
  EXPECT_EQ(with_typ("signet+jwt "), Reason::kWrongType);
  EXPECT_EQ(with_typ(5), Reason::kMalformed);
  Expectations at = testing::expectations();
  at.typ = "application/at+jwt";
  EXPECT_EQ(check_claims(claims(), at, R"({"alg":"ES256","kid":"es-1","typ":"at+jwt"})").reason, Reason::kOk);
  (void)key;
}

TEST(Type, ProfileIsTheTypeClaim) {
  EXPECT_EQ(reason_for(with("type", "refresh")), Reason::kWrongType);
  EXPECT_EQ(reason_for(with("type", "Access")), Reason::kWrongType);
  EXPECT_EQ(reason_for(without("type")), Reason::kWrongType);
  EXPECT_EQ(reason_for(with("type", 1)), Reason::kMalformed);
}

TEST(Payload, MustBeAnObject) {
  for (const char* payload : {"[]", "\"x\"", "123", "null", "", "{", "{}x"}) {
    const auto& key = testing::es256_key();
    EXPECT_EQ(verify(testing::all_keys(), key.token(key.header(), payload), testing::expectations()).reason,
              Reason::kMalformed) << payload;
  }
}

TEST(Order, SignatureIsCheckedBeforeClaims) {
  const auto& key = testing::es256_key();
  for (const json& c : {with("exp", kNow - 1000), with("iss", "evil"), with("aud", "other"),
                        with("exp", "soon")}) {
    std::string token = key.token(key.header(), c.dump());
    token.replace(token.rfind('.') + 1, 4, token.substr(token.rfind('.') + 1, 4) == "AAAA" ? "BAAA" : "AAAA");
    const VerifyResult r = verify(testing::all_keys(), token, testing::expectations());
    EXPECT_EQ(r.reason, Reason::kBadSignature) << c.dump();
    EXPECT_TRUE(r.claims.is_null());
    EXPECT_EQ(r.kid, "es-1");
  }
  // A payload that is not even JSON, with a bad signature: still bad_signature.
  std::string token = key.token(key.header(), "{not json");
  token.replace(token.rfind('.') + 1, 4, "AAAA");
  EXPECT_EQ(verify(testing::all_keys(), token, testing::expectations()).reason, Reason::kBadSignature);
}

TEST(Clock, SystemClockUsedWhenNowIsEmpty) {
  Expectations e = testing::expectations();
  e.now.reset();
  // Tokens minted around kNow (2023) are long expired by the system clock.
  EXPECT_EQ(reason_for(claims(), e), Reason::kExpired);
}

}  // namespace
}  // namespace signet::verify
