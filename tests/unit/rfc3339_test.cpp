#include "base/rfc3339.h"

#include <gtest/gtest.h>

namespace signet {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::system_clock;

TEST(Rfc3339, UtcWithMilliseconds) {
  EXPECT_EQ(rfc3339_millis(Clock::time_point(milliseconds(0))), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339_millis(Clock::time_point(milliseconds(1790000000123))), "2026-09-21T14:13:20.123Z");
}

TEST(Rfc3339, BeforeTheEpochCountsDown) {
  EXPECT_EQ(rfc3339_millis(Clock::time_point(milliseconds(-1))), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace signet
