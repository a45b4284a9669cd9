#include "base/catch_all.h"

#include <exception>

#include "base/log.h"

namespace signet {

std::string exception_text() noexcept {
  try {
    try {
      throw;
    } catch (const std::exception& e) {
      return e.what();
    } catch (...) {
      return "not a std::exception";
    }
  } catch (...) {  // no memory left for the text
    return {};
  }
}

void log_exception(std::string_view where) noexcept {
  try {
    const std::string what = exception_text();
    log::error("uncaught_exception", {{"where", where}, {"detail", what}});
  } catch (...) {
  }
}

}  // namespace signet
