// verify(): the order of checks is the security argument. Structure and caps, then the header
// (from which only `kid` selects a key and `alg` must equal the key's own algorithm), then the
// signature over the exact received bytes, and only then the payload's JSON and claims.
#include "firmware/verify/verifier.h"

#include "firmware/jose/base64url.h"
#include "firmware/verify/claims.h"
#include "firmware/verify/key.h"
#include "firmware/verify/strict_json.h"

#include <algorithm>
#include <array>

namespace signet::verify {
namespace {

using json = nlohmann::json;

struct Parts {
  std::string_view header, payload, signature;
};

// Exactly three dot-separated parts within the size caps; header and payload non-empty.
std::optional<Parts> split(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return std::nullopt;
  const std::size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  Parts parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
              token.substr(second + 1)};
  if (parts.header.empty() || parts.payload.empty()) return std::nullopt;
  if (parts.header.size() > jose::base64url_encoded_size(kMaxHeaderBytes)) return std::nullopt;
  return parts;
}

std::optional<json> decode_object(std::string_view segment) {
  const std::optional<std::string> bytes = jose::base64url_decode(segment);
  if (!bytes) return std::nullopt;
  std::optional<json> value = internal::parse_strict_json(*bytes);
  if (!value || !value->is_object()) return std::nullopt;
  return value;
}

// Members Signet never honours. Refusing them (rather than ignoring) keeps a token that asks for
// an extension (crit, b64), a nested token (cty), an embedded or remote key (jwk, x5c, jku, x5u)
// or JWE processing (enc, zip) from meaning something different to another verifier.
constexpr std::array kRefusedHeaderMembers = {"crit", "b64", "cty", "jku", "x5u", "jwk", "x5c",
                                              "enc", "zip"};

bool header_well_formed(const json& header) {
  const auto alg = header.find("alg");
  const auto kid = header.find("kid");
  if (alg == header.end() || !alg->is_string()) return false;
  if (kid == header.end() || !kid->is_string() || kid->get_ref<const std::string&>().empty()) {
    return false;
  }
  if (const auto typ = header.find("typ"); typ != header.end() && !typ->is_string()) return false;
  return std::none_of(kRefusedHeaderMembers.begin(), kRefusedHeaderMembers.end(),
                      [&](const char* name) { return header.contains(name); });
}

bool alg_in_policy(internal::Scheme scheme) {
  const auto& allowed = internal::relying_party_policy().schemes;
  return std::find(allowed.begin(), allowed.end(), scheme) != allowed.end();
}

VerifyResult refused(Reason reason, std::string kid = {}) {
  VerifyResult r;
  r.reason = reason;
  r.kid = std::move(kid);
  return r;
}

}  // namespace

std::string_view to_string(Reason reason) {
  switch (reason) {
    case Reason::kOk: return "ok";
    case Reason::kMalformed: return "malformed";
    case Reason::kUnknownKid: return "unknown_kid";
    case Reason::kBadSignature: return "bad_signature";
    case Reason::kExpired: return "expired";
    case Reason::kNotYetValid: return "not_yet_valid";
    case Reason::kWrongIssuer: return "wrong_issuer";
    case Reason::kWrongAudience: return "wrong_audience";
    case Reason::kWrongType: return "wrong_type";
    case Reason::kAlgNotAllowed: return "alg_not_allowed";
  }
  return "malformed";
}

std::optional<std::string> peek_kid(std::string_view token) {
  const std::optional<Parts> parts = split(token);
  if (!parts) return std::nullopt;
  const std::optional<json> header = decode_object(parts->header);
  if (!header || !header_well_formed(*header)) return std::nullopt;
  return header->at("kid").get<std::string>();
}

VerifyResult verify(const KeySet& keys, std::string_view token, const Expectations& expect) {
  const std::optional<Parts> parts = split(token);
  if (!parts) return refused(Reason::kMalformed);
  const std::optional<json> header = decode_object(parts->header);
  if (!header || !header_well_formed(*header)) return refused(Reason::kMalformed);
  std::string kid = header->at("kid").get<std::string>();

  // The allowlist never holds `none` or HS*; the comparison is exact (case-sensitive).
  const std::optional<internal::Scheme> alg =
      internal::scheme_from_name(header->at("alg").get_ref<const std::string&>());
  if (!alg || !alg_in_policy(*alg)) return refused(Reason::kAlgNotAllowed, std::move(kid));
  const internal::PublicKey* key = keys.find(kid);
  if (key == nullptr) return refused(Reason::kUnknownKid, std::move(kid));
  if (key->scheme != *alg) return refused(Reason::kAlgNotAllowed, std::move(kid));

  const std::optional<std::string> signature = jose::base64url_decode(parts->signature);
  const std::optional<std::string> payload = jose::base64url_decode(parts->payload);
  if (!signature || !payload) return refused(Reason::kMalformed, std::move(kid));
  const std::string_view signing_input =
      token.substr(0, parts->header.size() + 1 + parts->payload.size());
  if (!internal::verify_signature(*key, signing_input, *signature)) {
    return refused(Reason::kBadSignature, std::move(kid));
  }

  std::optional<json> claims = internal::parse_strict_json(*payload);
  if (!claims || !claims->is_object()) return refused(Reason::kMalformed, std::move(kid));
  const Reason reason = internal::check_claims(*header, *claims, expect);
  if (reason != Reason::kOk) return refused(reason, std::move(kid));

  VerifyResult ok;
  ok.valid = true;
  ok.reason = Reason::kOk;
  ok.kid = std::move(kid);
  ok.claims = std::move(*claims);
  return ok;
}

}  // namespace signet::verify
