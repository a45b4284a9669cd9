// Appending one trace line per call (see trace_log.h).
#include "tests/p11fault/trace_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tests/p11fault/rv_names.h"

namespace signet::p11fault {

void TraceLog::record(Fn fn, CK_RV rv) const noexcept {
  if (path_.empty()) return;
  // "C_DecryptVerifyUpdate CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT\n" is well under 128 bytes.
  char line[128];
  std::string_view name = function_name(fn);
  std::memcpy(line, name.data(), name.size());
  std::size_t length = name.size();
  line[length++] = ' ';
  length += format_rv(rv, line + length, sizeof line - length - 1);
  line[length++] = '\n';

  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  while (::write(fd, line, length) < 0 && errno == EINTR) {
  }
  ::close(fd);
}

}  // namespace signet::p11fault
