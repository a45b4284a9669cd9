// Closing every real session when the reboot generation rises (see reboot.h).
#include "tests/p11fault/reboot.h"

#include <vector>

namespace signet::p11fault {

void RebootSimulator::before_call(const Rules& rules, CK_FUNCTION_LIST& real) noexcept {
  if (!rules.reboot_generation) return;
  const std::int64_t generation = *rules.reboot_generation;
  if (generation <= acted_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(mutex_);
  if (generation <= acted_.load(std::memory_order_relaxed)) return;  // another thread did it
  try {
    std::unique_lock no_calls(in_flight_);
    close_every_session(real);
  } catch (...) {  // out of memory for the slot list: the reboot is lost, not the call
  }
  acted_.store(generation, std::memory_order_release);
}

void RebootSimulator::close_every_session(CK_FUNCTION_LIST& real) {
  if (real.C_GetSlotList == nullptr || real.C_CloseAllSessions == nullptr) return;
  // Before C_Initialize this answers CKR_CRYPTOKI_NOT_INITIALIZED: nothing to close, and the
  // generation counts as acted on (a process that starts after a reboot sees a fresh HSM).
  std::vector<CK_SLOT_ID> slots;
  CK_RV rv = CKR_BUFFER_TOO_SMALL;
  for (int attempt = 0; attempt < 4 && rv == CKR_BUFFER_TOO_SMALL; ++attempt) {
    CK_ULONG count = 0;
    rv = real.C_GetSlotList(CK_FALSE, nullptr, &count);
    if (rv != CKR_OK) return;
    slots.resize(count);
    rv = real.C_GetSlotList(CK_FALSE, slots.data(), &count);
    if (rv == CKR_OK) slots.resize(count);
  }
  if (rv != CKR_OK) return;
  for (CK_SLOT_ID slot : slots) real.C_CloseAllSessions(slot);
}

}  // namespace signet::p11fault
