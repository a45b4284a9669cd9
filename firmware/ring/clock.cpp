#include "firmware/ring/clock.h"

#include <thread>

namespace signet::ring {
namespace {

template <class Source>
std::int64_t ms_of() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Source::now().time_since_epoch()).count();
}

class SystemClock final : public Clock {
 public:
  std::int64_t wall_ms() const override { return ms_of<std::chrono::system_clock>(); }
  std::int64_t steady_ms() const override { return ms_of<std::chrono::steady_clock>(); }
  void sleep_for(std::chrono::milliseconds duration) override { std::this_thread::sleep_for(duration); }
};

}  // namespace

Clock& system_clock() {
  static SystemClock clock;  // stateless: sharing it between threads is safe
  return clock;
}

}  // namespace signet::ring
