// The last line at the places where an exception must stop: C callbacks (libmicrohttpd,
// GnuTLS), which it must not unwind through, and thread entries, where it would call
// std::terminate. Signet's errors are Results, so what arrives here is a bug or an
// allocation failure; it is logged with where it was caught, and the caller decides what
// goes on (an answer of 500, a refused callback, the thread's next iteration).
//
//   try { ... } catch (...) { log_exception("rotation_job"); }
#pragma once

#include <string>
#include <string_view>

namespace signet {

// What the exception being handled says (its what(), or that it is not a std::exception).
// Call only from inside a catch block. Never throws.
std::string exception_text() noexcept;

// Logs "uncaught_exception" with where and exception_text(). Call only from inside a catch
// block. Never throws: when even logging fails, it gives up quietly.
void log_exception(std::string_view where) noexcept;

}  // namespace signet
