// dlopen and C_GetFunctionList of the real module (see real_module.h).
#include "tests/p11fault/real_module.h"

#include <dlfcn.h>

namespace signet::p11fault {

RealModule load_real_module(const std::string& path) {
  RealModule real;
  real.handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (real.handle == nullptr) {
    const char* why = ::dlerror();
    real.error = "dlopen " + path + ": " + (why != nullptr ? why : "failed");
    return real;
  }
  auto get_function_list =
      reinterpret_cast<CK_C_GetFunctionList>(::dlsym(real.handle, "C_GetFunctionList"));
  if (get_function_list == nullptr) {
    real.error = path + " has no C_GetFunctionList";
    return real;
  }
  CK_FUNCTION_LIST* functions = nullptr;
  CK_RV rv = get_function_list(&functions);
  if (rv != CKR_OK || functions == nullptr) {
    real.error = path + ": C_GetFunctionList answered " + std::to_string(rv);
    return real;
  }
  real.functions = functions;
  return real;
}

}  // namespace signet::p11fault
