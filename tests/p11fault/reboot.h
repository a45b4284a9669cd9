// The `reboot <GENERATION>` directive: when the control file's generation rises above the last
// one this process acted on, the next call (whichever thread makes it) first closes every
// session of every slot in the real module, as an HSM that rebooted under the application
// would have: SoftHSM2 then logs the application out, every session handle is dead, and so are
// the handles of private objects. The call is then forwarded as usual. Calls that arrive while
// the sessions are being closed wait, so that none of them runs against the half-rebooted state,
// and the closing waits for the calls already inside the real module (in_flight()): SoftHSM2
// frees a session's state in C_CloseAllSessions while a C_Sign in it may still use it.
#pragma once

#include <p11-kit/pkcs11.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>

#include "tests/p11fault/rules.h"

namespace signet::p11fault {

class RebootSimulator {
 public:
  // Acts on rules.reboot_generation if it is new. Generation 0 (or none) never acts.
  void before_call(const Rules& rules, CK_FUNCTION_LIST& real) noexcept;
  // Held shared by every call while the real module runs it; a reboot takes it exclusively.
  std::shared_mutex& in_flight() { return in_flight_; }

 private:
  static void close_every_session(CK_FUNCTION_LIST& real);

  std::atomic<std::int64_t> acted_{0};
  std::mutex mutex_;
  std::shared_mutex in_flight_;
};

}  // namespace signet::p11fault
