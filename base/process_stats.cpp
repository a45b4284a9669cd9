#include "base/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

namespace signet {
namespace {

std::optional<std::string> read_file(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::uint64_t count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  std::uint64_t count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count > 0 ? count - 1 : 0;  // less the descriptor opendir itself holds
}

std::string number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

void family(std::string& out, const char* name, const char* type, const char* help, const std::string& value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + value + "\n";
}

}  // namespace

std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_second, long page_size,
                                            std::int64_t boot_time) {
  // The command name is in parentheses and may hold spaces and parentheses: fields are
  // counted after the last ')'. Field 3 (state) is the first one after it.
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0 || page_size <= 0) return std::nullopt;
  std::istringstream fields{std::string(stat.substr(close + 1))};
  std::vector<std::string> values;
  for (std::string field; fields >> field;) values.push_back(field);
  // values[0] is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24 (proc(5)).
  const auto at = [&](int field) { return values.size() > static_cast<std::size_t>(field - 3) ? values[field - 3] : std::string(); };
  try {
    ProcessStats stats;
    stats.cpu_seconds = static_cast<double>(std::stoull(at(14)) + std::stoull(at(15))) / static_cast<double>(ticks_per_second);
    stats.start_time_seconds = static_cast<double>(boot_time) +
                               static_cast<double>(std::stoull(at(22))) / static_cast<double>(ticks_per_second);
    stats.virtual_bytes = std::stoull(at(23));
    stats.resident_bytes = std::stoull(at(24)) * static_cast<std::uint64_t>(page_size);
    return stats;
  } catch (const std::exception&) {
    return std::nullopt;  // a field missing or not a number
  }
}

std::optional<std::int64_t> parse_boot_time(std::string_view proc_stat) {
  const auto at = proc_stat.find("\nbtime ");
  if (at == std::string_view::npos) return std::nullopt;
  long long value = 0;
  if (std::sscanf(std::string(proc_stat.substr(at + 7, 24)).c_str(), "%lld", &value) != 1) return std::nullopt;
  return value;
}

std::optional<ProcessStats> read_process_stats() {
  const auto stat = read_file("/proc/self/stat");
  const auto system = read_file("/proc/stat");
  if (!stat || !system) return std::nullopt;
  const auto boot = parse_boot_time(*system);
  if (!boot) return std::nullopt;
  auto stats = parse_proc_stat(*stat, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), *boot);
  if (!stats) return std::nullopt;
  stats->open_fds = count_open_fds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) stats->max_fds = limit.rlim_cur;
  return stats;
}

void render_process_metrics(const ProcessStats& stats, std::string& out) {
  family(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", number(stats.cpu_seconds));
  family(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
         number(stats.start_time_seconds));
  family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", std::to_string(stats.resident_bytes));
  family(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", std::to_string(stats.virtual_bytes));
  family(out, "process_open_fds", "gauge", "Number of open file descriptors.", std::to_string(stats.open_fds));
  family(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.", std::to_string(stats.max_fds));
}

}  // namespace signet
