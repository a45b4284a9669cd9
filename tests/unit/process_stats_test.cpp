#include "base/process_stats.h"

#include <gtest/gtest.h>

namespace signet {
namespace {

// A /proc/self/stat line whose command name holds a space and a parenthesis.
constexpr const char* kStat =
    "4242 (signet d) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 150 0 0 20 0 9 0 5000 "
    "123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";

TEST(ProcessStats, ParsesProcSelfStat) {
  const auto stats = parse_proc_stat(kStat, 100, 4096, 1700000000);
  ASSERT_TRUE(stats);
  EXPECT_DOUBLE_EQ(stats->cpu_seconds, 4.0);  // (250 + 150) ticks at 100 per second
  EXPECT_DOUBLE_EQ(stats->start_time_seconds, 1700000050.0);
  EXPECT_EQ(stats->virtual_bytes, 123456789u);
  EXPECT_EQ(stats->resident_bytes, 2048u * 4096u);
}

TEST(ProcessStats, RefusesWhatDoesNotParse) {
  EXPECT_FALSE(parse_proc_stat("4242 (signetd) S 1 2", 100, 4096, 0));
  EXPECT_FALSE(parse_proc_stat("no parenthesis", 100, 4096, 0));
}

TEST(ProcessStats, ReadsTheBootTime) {
  EXPECT_EQ(parse_boot_time("cpu 1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n"), 1700000000);
  EXPECT_FALSE(parse_boot_time("cpu 1 2 3\n"));
}

TEST(ProcessStats, ThisProcessHasStatsAndRendersThem) {
  const auto stats = read_process_stats();
  ASSERT_TRUE(stats);
  EXPECT_GT(stats->resident_bytes, 0u);
  EXPECT_GT(stats->open_fds, 0u);
  std::string out;
  render_process_metrics(*stats, out);
  EXPECT_NE(out.find("# HELP process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(out.find("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "), std::string::npos);
}

}  // namespace
}  // namespace signet
