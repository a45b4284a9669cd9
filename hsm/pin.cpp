// read_pin: the user PIN from a private file or an environment variable. Every copy of the PIN
// made here is wiped before it is dropped; errors name the file or variable, never the value.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "hsm/hsm.h"

namespace signet::hsm {
namespace {

constexpr std::size_t kMaxPinFileSize = 4096;  // a PIN is short; anything bigger is a mistake

void wipe(std::string& s) {
  s.resize(s.capacity());  // also overwrites a short string's inline buffer
  OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

Result<std::string> read_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang start-up; we refuse anything irregular below.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    return make_error(Code::kConfig,
                      "cannot open the PIN file '" + path + "': " + std::strerror(errno));
  }
  // fstat on the open file, so that what we check is what we read.
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(Code::kConfig, "the PIN file '" + path + "' is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    const char* how = (st.st_mode & 044) != 0 ? "readable" : (st.st_mode & 022) != 0
                                                                  ? "writable"
                                                                  : "accessible";
    return make_error(Code::kConfig, "PIN file '" + path + "' is " + how +
                                         " by group or others (mode " + mode_text(st.st_mode) +
                                         "); chmod 600 it");
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxPinFileSize) {
    ::close(fd);
    return make_error(Code::kConfig, "the PIN file '" + path + "' is too large for a PIN");
  }
  std::string content;
  content.reserve(kMaxPinFileSize + 1);  // one heap buffer: growth would leave stale copies
  char buf[256];
  std::string failure;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      failure = std::strerror(errno);
      break;
    }
    if (content.size() + static_cast<std::size_t>(n) > kMaxPinFileSize) {
      failure = "too large for a PIN";
      break;
    }
    content.append(buf, static_cast<std::size_t>(n));
  }
  OPENSSL_cleanse(buf, sizeof buf);
  ::close(fd);
  if (!failure.empty()) {
    wipe(content);
    return make_error(Code::kConfig, "cannot read the PIN file '" + path + "': " + failure);
  }
  return content;
}

}  // namespace

Result<SecretString> read_pin(const std::string& pin_file, const std::string& pin_env) {
  if (pin_file.empty() == pin_env.empty()) {
    return make_error(Code::kConfig,
                      "set exactly one of the PIN file and the PIN environment variable");
  }
  std::string where;
  std::string pin;
  if (!pin_file.empty()) {
    where = "the PIN file '" + pin_file + "'";
    auto content = read_file(pin_file);
    if (!content.ok()) return content.error();
    pin = std::move(*content);
    wipe(*content);
  } else {
    where = "the environment variable '" + pin_env + "'";
    const char* value = std::getenv(pin_env.c_str());
    if (value == nullptr) {
      return make_error(Code::kConfig, where + " that should hold the PIN is not set");
    }
    pin = value;
  }
  // Editors and `echo` add a line end; it is never part of the PIN.
  while (!pin.empty() && (pin.back() == '\n' || pin.back() == '\r')) pin.pop_back();
  if (pin.empty()) return make_error(Code::kConfig, where + " holds an empty PIN");
  SecretString secret(std::move(pin));
  wipe(pin);  // a short string is copied, not moved, out of its inline buffer
  return secret;
}

}  // namespace signet::hsm
