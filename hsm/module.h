// A loaded PKCS#11 module: dlopen, C_GetFunctionList and C_Initialize (with OS locking, since
// Signet calls it from many threads). Cryptoki state is per process, not per caller, so every
// Hsm of this process on one module path shares one Module: the last one to go finalizes
// (only if this process initialized it) and unloads.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"
#include "hsm/ck.h"

namespace signet::hsm {

class Module {
 public:
  // Errors: kHsmModule with the path and dlerror() text when the library cannot be loaded or is
  // not a PKCS#11 module; rv_error() codes when C_Initialize fails.
  static Result<std::shared_ptr<Module>> load(const std::string& path);

  // A copy would finalize and unload the module while the original still uses it.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  ~Module();

  const CK_FUNCTION_LIST& api() const { return *api_; }
  const std::string& path() const { return path_; }

  // PKCS#11 login state belongs to the application and the token, not to a session: every
  // Token of this process on one slot shares one login. These count them, under login_mutex(),
  // so that only the last Token on a slot logs out.
  std::mutex& login_mutex() { return login_mutex_; }
  unsigned& logins(CK_SLOT_ID slot) { return logins_[slot]; }

 private:
  Module(std::string path, void* library, CK_FUNCTION_LIST* api, bool owns_init);

  std::string path_;
  void* library_;
  CK_FUNCTION_LIST* api_;
  bool owns_init_;  // false when someone else in the process had initialized it before us
  std::mutex login_mutex_;
  std::map<CK_SLOT_ID, unsigned> logins_;
};

}  // namespace signet::hsm
