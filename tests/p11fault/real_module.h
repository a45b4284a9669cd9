// Loading the real PKCS#11 module the fault module stands in front of: dlopen(RTLD_NOW |
// RTLD_LOCAL), so its symbols stay private to it, then its own C_GetFunctionList. The handle is
// never closed: threads may still be inside the real module while the process exits, and
// SoftHSM2 does not survive being unloaded while initialized.
#pragma once

#include <p11-kit/pkcs11.h>

#include <string>

namespace signet::p11fault {

struct RealModule {
  void* handle = nullptr;
  CK_FUNCTION_LIST* functions = nullptr;  // null when loading failed
  std::string error;                      // why, when it failed
};

RealModule load_real_module(const std::string& path);

}  // namespace signet::p11fault
