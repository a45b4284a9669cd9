// Structured logging: one JSON object per line on stderr. Callers pass fields, never secrets:
// no PIN, API key or token is ever a field.
#pragma once

#include <initializer_list>
#include <string_view>
#include <utility>

namespace signet::log {

using Field = std::pair<std::string_view, std::string_view>;

void info(std::string_view event, std::initializer_list<Field> fields = {});
void warn(std::string_view event, std::initializer_list<Field> fields = {});
void error(std::string_view event, std::initializer_list<Field> fields = {});

}  // namespace signet::log
