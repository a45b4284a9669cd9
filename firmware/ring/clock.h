// Time as the key ring and its rotation job see it, injected so that their tests drive time
// instead of sleeping: the wall clock (record times, leases, operator requests), the monotonic
// clock (how long ago the ring was read, deadlines), and the short waits between steps (the
// lease's settle time, a start that waits for another replica).
#pragma once

#include <chrono>
#include <cstdint>

namespace signet::ring {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t wall_ms() const = 0;    // Unix time, milliseconds
  virtual std::int64_t steady_ms() const = 0;  // monotonic, milliseconds from an arbitrary start
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;

  std::int64_t wall_seconds() const { return wall_ms() / 1000; }
};

// The system's clocks; sleep_for sleeps. Shared by every ring of the process.
Clock& system_clock();

}  // namespace signet::ring
