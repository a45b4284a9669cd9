#include "base/rfc3339.h"

#include <cstdio>
#include <ctime>

namespace signet {

std::string rfc3339_millis(std::chrono::system_clock::time_point time) {
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  // Floor, not truncation toward zero, so that times before 1970 still read correctly.
  const std::int64_t whole = millis >= 0 ? millis / 1000 : -((-millis + 999) / 1000);
  const std::time_t seconds = static_cast<std::time_t>(whole);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[48];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis - whole * 1000));
  return text;
}

}  // namespace signet
