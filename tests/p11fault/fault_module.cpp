// libsignet-p11fault.so: a PKCS#11 module that stands in front of a real one (SoftHSM2 in the
// tests) and forwards every call to it, except where the control file says to fail the call,
// delay it, or reboot the "HSM" first. Tests load it as `hsm.module` to see how Signet copes
// with a token that errs, stalls, or forgets its sessions — things SoftHSM2 never does alone.
//
// Every entry of the 2.40 CK_FUNCTION_LIST goes through one template, Entry<>::call, whose
// parameters are deduced from the list's own member types; the table in functions.h names the
// members. Only C_GetFunctionList is exported (see exports.map).
//
// Environment, read once when the module is first used:
//   SIGNET_P11FAULT_MODULE   the real module (default /usr/lib/softhsm/libsofthsm2.so)
//   SIGNET_P11FAULT_CONTROL  the control file (see rules.h, README.md); unset = no faults
//   SIGNET_P11FAULT_TRACE    a file that gets `<function> <CKR_NAME>` per call; unset = none
#include <p11-kit/pkcs11.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <optional>
#include <string>
#include <thread>

#include "tests/p11fault/control_file.h"
#include "tests/p11fault/functions.h"
#include "tests/p11fault/real_module.h"
#include "tests/p11fault/reboot.h"
#include "tests/p11fault/rules.h"
#include "tests/p11fault/trace_log.h"

namespace signet::p11fault {
namespace {

constexpr const char* kDefaultRealModule = "/usr/lib/softhsm/libsofthsm2.so";

// Everything a loaded module needs. Made once and never destroyed: the application's threads
// may still call in while the process runs its exit-time destructors.
struct Module {
  Module(CK_FUNCTION_LIST* real_functions, std::string control_path, std::string trace_path)
      : real(*real_functions), control(std::move(control_path)), trace(std::move(trace_path)) {}

  CK_FUNCTION_LIST& real;
  ControlFile control;
  TraceLog trace;
  RebootSimulator reboot;
};

std::atomic<Module*> g_module{nullptr};
std::mutex g_load_mutex;

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : fallback;
}

// One call: reboot if the generation rose, wait the latency, then either answer the fault
// (on_fault may still choose to forward, by answering nothing) or forward; trace the answer.
template <Fn F, typename Forward, typename OnFault>
CK_RV dispatch(Forward&& forward, OnFault&& on_fault) noexcept {
  Module* module = g_module.load(std::memory_order_acquire);
  // The function list is handed out only once the module is loaded, so this cannot happen.
  if (module == nullptr) return CKR_GENERAL_ERROR;
  std::shared_ptr<const Rules> rules = module->control.current();
  module->reboot.before_call(*rules, module->real);
  if (std::chrono::milliseconds delay = rules->latency_for(F); delay.count() > 0) {
    std::this_thread::sleep_for(delay);
  }
  std::optional<CK_RV> answer;
  if (std::optional<CK_RV> fault = rules->fault_for(F)) answer = on_fault(*fault);
  CK_RV rv = CKR_OK;
  if (answer) {
    rv = *answer;
  } else {
    std::shared_lock in_flight(module->reboot.in_flight());
    rv = forward(module->real);
  }
  module->trace.record(F, rv);
  return rv;
}

// A removed token: C_GetSlotList(tokenPresent = TRUE) finds no slot rather than erring (the
// code is not one C_GetSlotList may answer). The slots themselves stay, so a listing of all
// slots is forwarded; C_GetTokenInfo and the rest then answer the fault on their own.
std::optional<CK_RV> removed_token_slot_list(CK_RV fault, CK_BBOOL token_present, CK_SLOT_ID_PTR,
                                             CK_ULONG_PTR count) {
  if (fault != CKR_TOKEN_NOT_PRESENT) return fault;
  if (token_present == CK_FALSE) return std::nullopt;
  if (count == nullptr) return CKR_ARGUMENTS_BAD;
  *count = 0;
  return CKR_OK;
}

// What a failed call answers: the rule's code, but for the one entry point where a fault
// means something other than an error code.
template <Fn F, typename... Args>
std::optional<CK_RV> answer_fault(CK_RV fault, [[maybe_unused]] Args... args) {
  if constexpr (F == Fn::C_GetSlotList) {
    return removed_token_slot_list(fault, args...);
  } else {
    return fault;
  }
}

// The token objects the session sees, counted with a search of its own (the caller has no
// search open while it creates objects).
std::uint64_t count_token_objects(CK_FUNCTION_LIST& real, CK_SESSION_HANDLE session) {
  CK_BBOOL on_token = CK_TRUE;
  CK_ATTRIBUTE match{CKA_TOKEN, &on_token, sizeof on_token};
  if (real.C_FindObjectsInit(session, &match, 1) != CKR_OK) return 0;
  std::uint64_t count = 0;
  CK_OBJECT_HANDLE batch[64];
  CK_ULONG found = 0;
  while (real.C_FindObjects(session, batch, 64, &found) == CKR_OK && found > 0) count += found;
  real.C_FindObjectsFinal(session);
  return count;
}

// `capacity`: a create that would take the token past it answers CKR_DEVICE_MEMORY.
template <Fn F, typename First, typename... Rest>
std::optional<CK_RV> beyond_capacity([[maybe_unused]] CK_FUNCTION_LIST& real, [[maybe_unused]] First session, Rest...) {
  if constexpr (F == Fn::C_CreateObject || F == Fn::C_GenerateKeyPair) {
    Module* module = g_module.load(std::memory_order_acquire);
    const std::optional<std::uint64_t> capacity = module->control.current()->capacity;
    const std::uint64_t needed = F == Fn::C_GenerateKeyPair ? 2 : 1;
    if (capacity && count_token_objects(real, session) + needed > *capacity) return CKR_DEVICE_MEMORY;
  }
  return std::nullopt;
}

// The wrapper of one function-list member: same parameters as the member's pointer type.
template <typename Pointer>
struct Entry;

template <typename... Args>
struct Entry<CK_RV (*)(Args...)> {
  template <Fn F, auto Member>
  static CK_RV call(Args... args) noexcept {
    return dispatch<F>(
        [&](CK_FUNCTION_LIST& real) -> CK_RV {
          if constexpr (sizeof...(Args) > 0) {
            if (auto full = beyond_capacity<F>(real, args...)) return *full;
          }
          auto function = real.*Member;
          return function != nullptr ? function(args...) : CKR_FUNCTION_NOT_SUPPORTED;
        },
        [&](CK_RV fault) { return answer_fault<F>(fault, args...); });
  }
};

constexpr CK_FUNCTION_LIST make_function_list() {
  CK_FUNCTION_LIST list{};
#define SIGNET_P11FAULT_WRAP(name) \
  list.name = &Entry<decltype(list.name)>::template call<Fn::name, &CK_FUNCTION_LIST::name>;
  SIGNET_P11FAULT_FUNCTIONS(SIGNET_P11FAULT_WRAP)
#undef SIGNET_P11FAULT_WRAP
  // Not the generic wrapper, which would hand out the real module's list: ours.
  list.C_GetFunctionList = &::C_GetFunctionList;
  return list;
}

// Every member after `version` is one entry of the table: none is left unwrapped.
static_assert(sizeof(CK_FUNCTION_LIST) ==
                  offsetof(CK_FUNCTION_LIST, C_Initialize) + kFunctionCount * sizeof(CK_C_Sign),
              "functions.h must name every member of CK_FUNCTION_LIST");

// Its version is set from the real module's when that is loaded, before it is handed out.
constinit CK_FUNCTION_LIST g_function_list = make_function_list();

Module* load_module() noexcept {
  if (Module* module = g_module.load(std::memory_order_acquire)) return module;
  std::lock_guard lock(g_load_mutex);
  if (Module* module = g_module.load(std::memory_order_relaxed)) return module;
  try {
    RealModule real = load_real_module(env_or("SIGNET_P11FAULT_MODULE", kDefaultRealModule));
    if (real.functions == nullptr) {
      std::fprintf(stderr, "signet-p11fault: %s\n", real.error.c_str());
      return nullptr;
    }
    // The list holds the 2.40 entries only, so it never claims to be a 3.x list.
    CK_VERSION version = real.functions->version;
    if (version.major > 2) version = CK_VERSION{2, 40};
    g_function_list.version = version;
    auto* module = new Module(real.functions, env_or("SIGNET_P11FAULT_CONTROL", ""),
                              env_or("SIGNET_P11FAULT_TRACE", ""));
    g_module.store(module, std::memory_order_release);
    return module;
  } catch (...) {
    std::fprintf(stderr, "signet-p11fault: out of memory while loading\n");
    return nullptr;
  }
}

}  // namespace
}  // namespace signet::p11fault

// The one exported symbol. Loads the real module on first use; a fail rule naming
// C_GetFunctionList explicitly applies to it too (`*` does not).
extern "C" __attribute__((visibility("default"))) CK_RV C_GetFunctionList(
    CK_FUNCTION_LIST_PTR_PTR function_list) {
  using namespace signet::p11fault;
  if (load_module() == nullptr) return CKR_GENERAL_ERROR;
  return dispatch<Fn::C_GetFunctionList>(
      [function_list](CK_FUNCTION_LIST&) -> CK_RV {
        if (function_list == nullptr) return CKR_ARGUMENTS_BAD;
        *function_list = &g_function_list;
        return CKR_OK;
      },
      [](CK_RV fault) -> std::optional<CK_RV> { return fault; });
}
