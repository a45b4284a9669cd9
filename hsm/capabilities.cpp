#include "hsm/capabilities.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "base/log.h"

namespace signet::hsm {
namespace {

constexpr SignScheme kSchemes[] = {SignScheme::kRsaPkcs1Sha256, SignScheme::kRsaPssSha256,
                                   SignScheme::kEcdsaP256Sha256, SignScheme::kEd25519};

// CK_TOKEN_INFO strings are fixed-size and padded with spaces, not terminated (tpm2-pkcs11 pads
// with NULs, which a JSON log line would carry as \u0000).
template <std::size_t N>
std::string trimmed(const CK_UTF8CHAR (&field)[N]) {
  std::string text(reinterpret_cast<const char*>(field), N);
  text.erase(text.find_last_not_of(std::string(" \0", 2)) + 1);
  return text;
}

// CK_UNAVAILABLE_INFORMATION and CK_EFFECTIVELY_INFINITE (0) both mean "no number to report".
std::optional<std::uint64_t> reported(CK_ULONG value) {
  if (value == CK_UNAVAILABLE_INFORMATION || value == CK_EFFECTIVELY_INFINITE) return std::nullopt;
  return value;
}

// Whether the token lists the mechanism with the flag the use needs.
bool has(const CK_FUNCTION_LIST& api, CK_SLOT_ID slot, const std::vector<CK_MECHANISM_TYPE>& listed,
         CK_MECHANISM_TYPE mechanism, CK_FLAGS needed) {
  if (std::find(listed.begin(), listed.end(), mechanism) == listed.end()) return false;
  CK_MECHANISM_INFO info{};
  // A token that lists a mechanism it then cannot describe is not trusted with it.
  if (api.C_GetMechanismInfo(slot, mechanism, &info) != CKR_OK) return false;
  return (info.flags & needed) == needed;
}

Result<std::vector<CK_MECHANISM_TYPE>> mechanism_list(const CK_FUNCTION_LIST& api, CK_SLOT_ID slot) {
  CK_ULONG count = 0;
  CK_RV rv = api.C_GetMechanismList(slot, nullptr, &count);
  if (rv != CKR_OK) return rv_error("C_GetMechanismList", rv);
  std::vector<CK_MECHANISM_TYPE> listed(count);
  rv = api.C_GetMechanismList(slot, listed.data(), &count);
  if (rv != CKR_OK) return rv_error("C_GetMechanismList", rv);
  listed.resize(count);
  return listed;
}

}  // namespace

std::string_view scheme_name(SignScheme scheme) {
  switch (scheme) {
    case SignScheme::kRsaPkcs1Sha256: return "RS256";
    case SignScheme::kRsaPssSha256: return "PS256";
    case SignScheme::kEcdsaP256Sha256: return "ES256";
    case SignScheme::kEd25519: return "EdDSA";
  }
  return "unknown";
}

CK_MECHANISM_TYPE sign_mechanism(SignScheme scheme) {
  switch (scheme) {
    case SignScheme::kRsaPkcs1Sha256: return CKM_SHA256_RSA_PKCS;
    case SignScheme::kRsaPssSha256: return CKM_SHA256_RSA_PKCS_PSS;
    case SignScheme::kEcdsaP256Sha256: return CKM_ECDSA;
    case SignScheme::kEd25519: return CKM_EDDSA;
  }
  return CKM_VENDOR_DEFINED;
}

CK_MECHANISM_TYPE generation_mechanism(SignScheme scheme) {
  switch (scheme) {
    case SignScheme::kRsaPkcs1Sha256:
    case SignScheme::kRsaPssSha256: return CKM_RSA_PKCS_KEY_PAIR_GEN;
    case SignScheme::kEcdsaP256Sha256: return CKM_EC_KEY_PAIR_GEN;
    case SignScheme::kEd25519: return CKM_EC_EDWARDS_KEY_PAIR_GEN;
  }
  return CKM_VENDOR_DEFINED;
}

bool is_rsa(SignScheme scheme) {
  return scheme == SignScheme::kRsaPkcs1Sha256 || scheme == SignScheme::kRsaPssSha256;
}

std::string mechanism_name(CK_MECHANISM_TYPE mechanism) {
  switch (mechanism) {
    case CKM_SHA256_RSA_PKCS: return "CKM_SHA256_RSA_PKCS";
    case CKM_SHA256_RSA_PKCS_PSS: return "CKM_SHA256_RSA_PKCS_PSS";
    case CKM_ECDSA: return "CKM_ECDSA";
    case CKM_EDDSA: return "CKM_EDDSA";
    case CKM_RSA_PKCS_KEY_PAIR_GEN: return "CKM_RSA_PKCS_KEY_PAIR_GEN";
    case CKM_EC_KEY_PAIR_GEN: return "CKM_EC_KEY_PAIR_GEN";
    case CKM_EC_EDWARDS_KEY_PAIR_GEN: return "CKM_EC_EDWARDS_KEY_PAIR_GEN";
  }
  char text[32];
  std::snprintf(text, sizeof text, "CKM_0x%08lx", static_cast<unsigned long>(mechanism));
  return text;
}

std::string_view binding_name(Binding binding) {
  switch (binding) {
    case Binding::kUnknown: return "unknown";
    case Binding::kEnforced: return "enforced";
    case Binding::kNotReported: return "not_reported";
    case Binding::kNotAccepted: return "not_accepted";
  }
  return "unknown";
}

std::vector<Guarantee> guarantees(const TokenProfile& profile) {
  // The first four are read back from every key Signet makes, which it destroys when the token
  // does not confirm them: while Signet runs, the token keeps them.
  return {{"sensitive", true},
          {"never_extractable", true},
          {"local", true},
          {"sign_only", true},
          {"allowed_mechanisms", profile.allowed_mechanisms == Binding::kEnforced}};
}

Result<TokenProfile> probe_token(const CK_FUNCTION_LIST& api, CK_SLOT_ID slot) {
  CK_TOKEN_INFO info{};
  CK_RV rv = api.C_GetTokenInfo(slot, &info);
  if (rv != CKR_OK) return rv_error("C_GetTokenInfo", rv);
  TokenProfile profile;
  profile.manufacturer = trimmed(info.manufacturerID);
  profile.model = trimmed(info.model);
  profile.max_sessions = reported(info.ulMaxSessionCount).value_or(0);
  profile.max_rw_sessions = reported(info.ulMaxRwSessionCount).value_or(0);
  profile.free_public_memory = reported(info.ulFreePublicMemory);
  profile.free_private_memory = reported(info.ulFreePrivateMemory);

  auto listed = mechanism_list(api, slot);
  if (!listed.ok()) return listed.error();
  for (SignScheme scheme : kSchemes) {
    const CK_MECHANISM_TYPE sign = sign_mechanism(scheme);
    const CK_MECHANISM_TYPE generate = generation_mechanism(scheme);
    std::string lacks;
    if (!has(api, slot, *listed, sign, CKF_SIGN)) lacks = mechanism_name(sign);
    if (!has(api, slot, *listed, generate, CKF_GENERATE_KEY_PAIR)) {
      lacks += (lacks.empty() ? "" : ", ") + mechanism_name(generate);
    }
    if (lacks.empty()) {
      profile.schemes.push_back(scheme);
    } else {
      profile.missing.push_back(std::string(scheme_name(scheme)) + ": " + lacks);
    }
  }
  return profile;
}

void log_token_profile(std::string_view token, const TokenProfile& profile) {
  std::string schemes;
  for (SignScheme scheme : profile.schemes) schemes += (schemes.empty() ? "" : ",") + std::string(scheme_name(scheme));
  std::string missing;
  for (const std::string& lack : profile.missing) missing += (missing.empty() ? "" : "; ") + lack;
  auto number = [](std::optional<std::uint64_t> n) { return n ? std::to_string(*n) : std::string("unreported"); };
  auto limit = [](std::uint64_t n) { return n ? std::to_string(n) : std::string("unreported"); };
  log::info("hsm_token_profile", {{"token", token},
                                  {"manufacturer", profile.manufacturer},
                                  {"model", profile.model},
                                  {"schemes", schemes},
                                  {"missing", missing.empty() ? "none" : missing},
                                  {"max_sessions", limit(profile.max_sessions)},
                                  {"max_rw_sessions", limit(profile.max_rw_sessions)},
                                  {"free_public_memory", number(profile.free_public_memory)},
                                  {"free_private_memory", number(profile.free_private_memory)}});
}

Status require_scheme(const TokenProfile& profile, std::string_view token, SignScheme scheme) {
  if (std::find(profile.schemes.begin(), profile.schemes.end(), scheme) != profile.schemes.end()) {
    return ok_status();
  }
  const std::string prefix = std::string(scheme_name(scheme)) + ": ";
  std::string lacks = "its mechanisms";
  for (const std::string& missing : profile.missing) {
    if (missing.compare(0, prefix.size(), prefix) == 0) lacks = missing.substr(prefix.size());
  }
  return make_error(Code::kHsmModule, "the token " + std::string(token) + " cannot sign " +
                                          std::string(scheme_name(scheme)) + ": it lacks " + lacks +
                                          "; choose another keys.algorithm or another token");
}

}  // namespace signet::hsm
