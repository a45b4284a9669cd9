// The systemd readiness protocol (sd_notify(3)) without libsystemd: one datagram to the unix
// socket named by $NOTIFY_SOCKET. The unit is Type=notify, so systemd counts signetd as started
// only once it says READY=1, i.e. once it serves, and knows a stop is orderly from STOPPING=1.
// Outside systemd ($NOTIFY_SOCKET unset) it does nothing.
#pragma once

#include <string_view>

namespace signet {

// Sends `state` (e.g. "READY=1", "STOPPING=1"); false when there is no socket or the send
// failed. Never blocks: a datagram socket to a local listener.
bool notify_systemd(std::string_view state);

}  // namespace signet
