#include "firmware/ring/failpoint.h"

#include <signal.h>

#include <cstdlib>
#include <string>

#include "base/log.h"

namespace signet::ring {

void failpoint(std::string_view name) {
  static const std::string armed = [] {
    const char* value = std::getenv("SIGNET_FAILPOINT");
    return std::string(value ? value : "");
  }();
  if (armed.empty() || armed != name) return;
  log::warn("failpoint", {{"name", name}});
  raise(SIGKILL);
}

}  // namespace signet::ring
