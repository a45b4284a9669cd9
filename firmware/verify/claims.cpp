// Claim rules (RFC 7519 §4.1, RFC 8725 §3.8-3.11), in a fixed order so that the reason given for
// a token is always the same: claim types first (a wrong JSON type is `malformed`, whether or not
// the caller asked about that claim), then time, then iss, aud, typ and profile.
#include "firmware/verify/claims.h"

#include <chrono>
#include <cmath>
#include <optional>

namespace signet::verify::internal {
namespace {

using json = nlohmann::json;

bool string_if_present(const json& obj, const char* name) {
  const auto it = obj.find(name);
  return it == obj.end() || it->is_string();
}

// aud is a string or an array of strings (an empty array is well-formed but matches nothing).
bool audience_well_formed(const json& claims) {
  const auto it = claims.find("aud");
  if (it == claims.end() || it->is_string()) return true;
  if (!it->is_array()) return false;
  for (const json& element : *it) {
    if (!element.is_string()) return false;
  }
  return true;
}

// A NumericDate: a finite JSON number no later than year 9999. `bool` is not a number here.
enum class Time { kAbsent, kBad, kOk };
Time numeric_date(const json& claims, const char* name, double& out) {
  const auto it = claims.find(name);
  if (it == claims.end()) return Time::kAbsent;
  if (!it->is_number()) return Time::kBad;
  out = it->get<double>();
  if (!std::isfinite(out) || out > static_cast<double>(kMaxNumericDate)) return Time::kBad;
  return Time::kOk;
}

std::string normalized_typ(std::string_view typ) {
  std::string out(typ);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  constexpr std::string_view kPrefix = "application/";
  if (out.starts_with(kPrefix)) out.erase(0, kPrefix.size());
  return out;
}

bool audience_matches(const json& aud, const std::string& expected) {
  if (aud.is_string()) return aud.get_ref<const std::string&>() == expected;
  for (const json& element : aud) {
    if (element.get_ref<const std::string&>() == expected) return true;
  }
  return false;
}

}  // namespace

Reason check_claims(const json& header, const json& claims, const Expectations& expect) {
  if (!string_if_present(claims, "iss") || !string_if_present(claims, "sub") ||
      !string_if_present(claims, "jti") || !string_if_present(claims, "type") ||
      !audience_well_formed(claims)) {
    return Reason::kMalformed;
  }
  double exp = 0, nbf = 0, iat = 0;
  const Time has_exp = numeric_date(claims, "exp", exp);
  const Time has_nbf = numeric_date(claims, "nbf", nbf);
  const Time has_iat = numeric_date(claims, "iat", iat);
  // exp is required: a token that never expires is not one Signet accepts.
  if (has_exp != Time::kOk || has_nbf == Time::kBad || has_iat == Time::kBad) {
    return Reason::kMalformed;
  }

  const std::int64_t now_seconds =
      expect.now ? *expect.now
                 : std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const double now = static_cast<double>(now_seconds);
  const double leeway = static_cast<double>(expect.leeway_seconds > 0 ? expect.leeway_seconds : 0);
  if (now >= exp + leeway) return Reason::kExpired;
  if (has_nbf == Time::kOk && now < nbf - leeway) return Reason::kNotYetValid;
  if (has_iat == Time::kOk && iat > now + leeway) return Reason::kNotYetValid;

  if (expect.issuer) {
    const auto iss = claims.find("iss");
    if (iss == claims.end() || iss->get_ref<const std::string&>() != *expect.issuer) {
      return Reason::kWrongIssuer;
    }
  }
  if (expect.audience) {
    const auto aud = claims.find("aud");
    if (aud == claims.end() || !audience_matches(*aud, *expect.audience)) {
      return Reason::kWrongAudience;
    }
  }
  if (expect.typ) {
    const auto typ = header.find("typ");
    if (typ == header.end() ||
        normalized_typ(typ->get_ref<const std::string&>()) != normalized_typ(*expect.typ)) {
      return Reason::kWrongType;
    }
  }
  if (expect.profile) {
    const auto type = claims.find("type");
    if (type == claims.end() || type->get_ref<const std::string&>() != *expect.profile) {
      return Reason::kWrongType;
    }
  }
  return Reason::kOk;
}

}  // namespace signet::verify::internal
