// Failpoints: named steps of the key lifecycle at which a test can make the process die as if
// by kill -9, to show that every crash leaves a ring the next start repairs. The environment
// variable SIGNET_FAILPOINT names the step; unset (production), a failpoint costs one getenv
// at start-up.
#pragma once

#include <string_view>

namespace signet::ring {

// Kills the process with SIGKILL when SIGNET_FAILPOINT equals name.
void failpoint(std::string_view name);

}  // namespace signet::ring
