// What the kernel says about this process, for the process_* families of /metrics (the names
// and units of Prometheus's client libraries, so that standard dashboards and alerts work).
// The parsing is pure, so that it is tested on fixed text; read_process_stats() reads /proc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace signet {

struct ProcessStats {
  double cpu_seconds = 0;           // user + system
  double start_time_seconds = 0;    // Unix time the process started
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;
};

// From /proc/self/stat's text (proc(5)), the clock ticks per second, the page size and the
// boot time (btime of /proc/stat). nullopt when the text does not parse.
std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_second, long page_size,
                                            std::int64_t boot_time);

// The boot time from /proc/stat's text ("btime N"); nullopt when absent.
std::optional<std::int64_t> parse_boot_time(std::string_view proc_stat);

// All of it for this process, or nullopt where /proc cannot be read.
std::optional<ProcessStats> read_process_stats();

// Prometheus lines, with HELP: process_cpu_seconds_total, process_start_time_seconds,
// process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds, process_max_fds.
void render_process_metrics(const ProcessStats& stats, std::string& out);

}  // namespace signet
