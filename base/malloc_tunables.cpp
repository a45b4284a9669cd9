#include "base/malloc_tunables.h"

#include <string_view>

namespace signet {

std::optional<std::string> tunables_without_thread_cache(const char* current) {
  constexpr std::string_view kName = "glibc.malloc.tcache_count";
  const std::string_view tunables = current ? current : "";
  // name=value pairs, separated by colons.
  for (std::size_t start = 0; start <= tunables.size();) {
    std::size_t end = tunables.find(':', start);
    if (end == std::string_view::npos) end = tunables.size();
    const std::string_view entry = tunables.substr(start, end - start);
    if (entry.substr(0, entry.find('=')) == kName) return std::nullopt;
    start = end + 1;
  }
  std::string updated(tunables);
  if (!updated.empty()) updated += ':';
  updated += kName;
  updated += "=0";
  return updated;
}

}  // namespace signet
