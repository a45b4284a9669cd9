#include "base/log.h"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace signet::log {
namespace {

void write(std::string_view level, std::string_view event, std::initializer_list<Field> fields) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  nlohmann::json line;
  line["ts"] = std::chrono::duration<double>(now).count();
  line["level"] = level;
  line["event"] = event;
  for (const auto& [key, value] : fields) line[std::string(key)] = value;
  // Replace rather than throw on invalid UTF-8: a log line must never abort a request.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  // One fwrite per line: stdio locks the stream, so lines from threads never interleave.
  std::fwrite(text.data(), 1, text.size(), stderr);
}

}  // namespace

void info(std::string_view event, std::initializer_list<Field> fields) { write("info", event, fields); }
void warn(std::string_view event, std::initializer_list<Field> fields) { write("warn", event, fields); }
void error(std::string_view event, std::initializer_list<Field> fields) { write("error", event, fields); }

}  // namespace signet::log
