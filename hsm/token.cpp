#include "hsm/token.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "base/log.h"

namespace signet::hsm {
namespace {

// CK_TOKEN_INFO's label, space padded, without the padding: the name messages use.
std::string trimmed_label(const CK_TOKEN_INFO& info) {
  std::string label(reinterpret_cast<const char*>(info.label), sizeof info.label);
  label.erase(label.find_last_not_of(' ') + 1);
  return label;
}

struct Found {
  CK_SLOT_ID slot;
  CK_TOKEN_INFO info;
};

Result<Found> find_token(const CK_FUNCTION_LIST& api, const TokenSelector& selector) {
  CK_ULONG count = 0;
  CK_RV rv = api.C_GetSlotList(CK_TRUE, nullptr, &count);
  if (rv != CKR_OK) return rv_error("C_GetSlotList", rv);
  std::vector<CK_SLOT_ID> slots(count);
  rv = api.C_GetSlotList(CK_TRUE, slots.data(), &count);
  if (rv != CKR_OK) return rv_error("C_GetSlotList", rv);
  slots.resize(count);

  std::optional<Found> found;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    rv = api.C_GetTokenInfo(slot, &info);
    // A slot whose token just went away is not ours to fail on; another may be the one selected.
    if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_TOKEN_NOT_RECOGNIZED) continue;
    if (rv != CKR_OK) return rv_error("C_GetTokenInfo", rv);
    // SoftHSM and others show an uninitialized token with an empty label; it is never ours.
    const std::string_view padded_label(reinterpret_cast<const char*>(info.label), sizeof info.label);
    const std::string_view padded_serial(reinterpret_cast<const char*>(info.serialNumber), sizeof info.serialNumber);
    if ((info.flags & CKF_TOKEN_INITIALIZED) == 0 || !selector.matches(slot, padded_label, padded_serial)) continue;
    if (found) {
      // Signing with the wrong one of two look-alike tokens is worse than not starting.
      return make_error(Code::kConfig, "more than one token is " + selector.describe() +
                                           "; give each token a distinct label, or select by serial or slot");
    }
    found = Found{slot, info};
  }
  if (!found) {
    return make_error(Code::kHsmTokenNotFound,
                      "no initialized token " + selector.describe() + " is present");
  }
  return *found;
}

Error pin_error(std::string_view label, std::string_view what, CK_RV rv) {
  return make_error(Code::kHsmPin, "the token '" + std::string(label) + "' " + std::string(what) +
                                       " (" + rv_name(rv) + ")");
}

Status check_pin_flags(const CK_TOKEN_INFO& info, std::string_view label) {
  if ((info.flags & CKF_USER_PIN_LOCKED) != 0) {
    return pin_error(label, "has its user PIN locked; an SO must unlock it", CKR_PIN_LOCKED);
  }
  if ((info.flags & CKF_USER_PIN_INITIALIZED) == 0) {
    return pin_error(label, "has no user PIN set", CKR_USER_PIN_NOT_INITIALIZED);
  }
  if ((info.flags & (CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW)) != 0) {
    // We still make our one attempt: refusing here would keep a correct PIN from clearing the
    // counter. But an operator should know that a wrong one may now lock the token.
    log::warn("hsm_pin_retries_low",
              {{"token", label},
               {"final_try", (info.flags & CKF_USER_PIN_FINAL_TRY) != 0 ? "true" : "false"}});
  }
  return ok_status();
}

// One C_Login, never repeated. When another Token of this process already holds the login,
// the module answers CKR_USER_ALREADY_LOGGED_IN without looking at the PIN: PKCS#11 has one
// login per application and token, and we join it.
Status login(Module& module, CK_SLOT_ID slot, CK_SESSION_HANDLE session, std::string_view label,
             SecretString& pin) {
  std::lock_guard lock(module.login_mutex());
  std::string_view secret = pin.view();
  // C_Login's PIN parameter is not const in the 2.x prototype, but the module only reads it.
  auto* pin_bytes = reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(secret.data()));
  CK_RV rv = module.api().C_Login(session, CKU_USER, pin_bytes, secret.size());
  pin.wipe();
  switch (rv) {
    case CKR_OK:
    case CKR_USER_ALREADY_LOGGED_IN:
      ++module.logins(slot);
      return ok_status();
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
      return pin_error(label, "refused the PIN", rv);
    case CKR_PIN_LOCKED:
      return pin_error(label, "has its user PIN locked; an SO must unlock it", rv);
    case CKR_PIN_EXPIRED:
      return pin_error(label, "says the user PIN has expired; set a new one", rv);
    case CKR_USER_PIN_NOT_INITIALIZED:
      return pin_error(label, "has no user PIN set", rv);
    default:
      return rv_error("C_Login on the token '" + std::string(label) + "'", rv);
  }
}

}  // namespace

Token::Token(std::shared_ptr<Module> module, CK_SLOT_ID slot, std::string label,
             CK_SESSION_HANDLE login_session, CK_ULONG session_limit)
    : module_(std::move(module)),
      slot_(slot),
      label_(std::move(label)),
      login_session_(login_session),
      session_limit_(session_limit) {}

Token::~Token() {
  {
    std::lock_guard lock(module_->login_mutex());
    // Only the last Token of this process on the slot logs out: the login is shared.
    if (--module_->logins(slot_) == 0) api().C_Logout(login_session_);
  }
  api().C_CloseSession(login_session_);
}

Result<std::unique_ptr<Token>> Token::open(std::shared_ptr<Module> module, const TokenSelector& selector,
                                           SecretString& pin) {
  auto found = find_token(module->api(), selector);
  if (!found.ok()) {
    pin.wipe();
    return found.error();
  }
  const std::string label = trimmed_label(found->info);
  if (Status flags = check_pin_flags(found->info, label); !flags.ok()) {
    pin.wipe();
    return flags.error();
  }
  if (pin.empty()) return make_error(Code::kHsmPin, "no PIN was given for the token '" +
                                                        std::string(label) + "'");

  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  CK_RV rv = module->api().C_OpenSession(found->slot, CKF_SERIAL_SESSION, nullptr, nullptr,
                                         &session);
  if (rv != CKR_OK) {
    pin.wipe();
    return rv_error("C_OpenSession on the token '" + std::string(label) + "'", rv);
  }
  if (Status logged_in = login(*module, found->slot, session, label, pin); !logged_in.ok()) {
    module->api().C_CloseSession(session);
    return logged_in.error();
  }

  // CK_EFFECTIVELY_INFINITE (0) and CK_UNAVAILABLE_INFORMATION both mean "no limit we know of".
  // The login session (read-only) takes one of all sessions; the pool's sessions are read-write,
  // so the read-write limit bounds them too.
  auto known = [](CK_ULONG max) {
    return max != CK_EFFECTIVELY_INFINITE && max != CK_UNAVAILABLE_INFORMATION;
  };
  CK_ULONG limit = 0;
  if (CK_ULONG max = found->info.ulMaxSessionCount; known(max)) limit = max > 1 ? max - 1 : 1;
  if (CK_ULONG max_rw = found->info.ulMaxRwSessionCount; known(max_rw)) {
    limit = limit == 0 ? max_rw : std::min(limit, max_rw);
  }
  return std::unique_ptr<Token>(
      new Token(std::move(module), found->slot, label, session, limit));
}

}  // namespace signet::hsm
