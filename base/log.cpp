#include "base/log.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/json_text.h"
#include "base/rfc3339.h"

namespace signet::log {
namespace {

// Whether stderr is the stream systemd connected to the journal (JOURNAL_STREAM names its
// device and inode, systemd.exec(5)); then each line starts with the sd-daemon(3) priority
// prefix, which journald turns into PRIORITY= and strips. Anywhere else lines stay pure JSON.
bool stderr_is_journal() {
  static const bool journal = [] {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (!stream) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st{};
    return fstat(2, &st) == 0 && static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
  }();
  return journal;
}

// level: a word for people; priority: its syslog number (RFC 5424), which journald and most
// log shippers map without configuration.
void write(std::string_view level, int priority, std::string_view event, std::initializer_list<Field> fields) {
  std::string text;
  text.reserve(256);
  if (stderr_is_journal()) text += "<" + std::to_string(priority) + ">";
  json_text::Object line(text);
  line.string("ts", rfc3339_millis(std::chrono::system_clock::now()))
      .string("level", level)
      .number("priority", priority)
      .string("event", event);
  // Invalid UTF-8 is replaced, never refused: a log line must never abort a request.
  for (const auto& [key, value] : fields) line.string(key, value);
  line.close();
  text.push_back('\n');
  // One fwrite per line: stdio locks the stream, so lines from threads never interleave.
  std::fwrite(text.data(), 1, text.size(), stderr);
}

}  // namespace

void info(std::string_view event, std::initializer_list<Field> fields) { write("info", 6, event, fields); }
void warn(std::string_view event, std::initializer_list<Field> fields) { write("warn", 4, event, fields); }
void error(std::string_view event, std::initializer_list<Field> fields) { write("error", 3, event, fields); }

}  // namespace signet::log
