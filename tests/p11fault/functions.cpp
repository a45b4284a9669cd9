// Names of the wrapped PKCS#11 entry points, generated from the table in functions.h.
#include "tests/p11fault/functions.h"

#include <array>

namespace signet::p11fault {
namespace {

constexpr std::array<std::string_view, kFunctionCount> kNames = {
#define SIGNET_P11FAULT_NAME(name) #name,
    SIGNET_P11FAULT_FUNCTIONS(SIGNET_P11FAULT_NAME)
#undef SIGNET_P11FAULT_NAME
};

}  // namespace

std::string_view function_name(Fn fn) { return kNames[static_cast<std::size_t>(fn)]; }

std::optional<Fn> find_function(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Fn>(i);
  }
  return std::nullopt;
}

FunctionSet all_faultable_functions() {
  FunctionSet set;
  set.set();
  for (Fn setup : {Fn::C_GetFunctionList, Fn::C_Initialize, Fn::C_Finalize, Fn::C_GetInfo}) {
    set.reset(static_cast<std::size_t>(setup));
  }
  return set;
}

}  // namespace signet::p11fault
