// A token found in a loaded module by its label, serial or slot (token_selector.h), with the user logged in. Login happens once,
// with CKU_USER, through a session kept open for the Token's whole life: closing a slot's last
// session logs the user out, so this session holds the login up for the pool's sessions.
// A wrong PIN is never retried and the PIN is wiped as soon as the token has seen it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/secret.h"
#include "hsm/ck.h"
#include "hsm/module.h"
#include "hsm/token_selector.h"

namespace signet::hsm {

class Token {
 public:
  // Errors: kHsmTokenNotFound (no initialized token is selected), kConfig (two are),
  // kHsmPin (incorrect, locked, expired or uninitialized PIN; the message names the token and
  // the CKR_ code, never the PIN), kHsmUnavailable (device trouble).
  static Result<std::unique_ptr<Token>> open(std::shared_ptr<Module> module,
                                             const TokenSelector& selector, SecretString& pin);

  // A copy would log out and close the login session while the original still relies on it.
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;
  ~Token();

  const CK_FUNCTION_LIST& api() const { return module_->api(); }
  CK_SLOT_ID slot() const { return slot_; }
  CK_SESSION_HANDLE login_session() const { return login_session_; }
  const std::string& label() const { return label_; }  // the token's own, whatever selected it
  // How many more sessions the token allows us, or 0 when it sets no limit.
  CK_ULONG session_limit() const { return session_limit_; }

 private:
  Token(std::shared_ptr<Module> module, CK_SLOT_ID slot, std::string label,
        CK_SESSION_HANDLE login_session, CK_ULONG session_limit);

  std::shared_ptr<Module> module_;
  CK_SLOT_ID slot_;
  std::string label_;
  CK_SESSION_HANDLE login_session_;
  CK_ULONG session_limit_;
};

}  // namespace signet::hsm
