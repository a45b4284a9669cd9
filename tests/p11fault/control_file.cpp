// Watching and re-reading the control file (see control_file.h).
#include "tests/p11fault/control_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

namespace signet::p11fault {
namespace {

// A control file is a few lines; anything past this is not read.
constexpr std::size_t kMaxControlBytes = 1 << 20;

std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  while (text.size() < kMaxControlBytes) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace

ControlFile::ControlFile(std::string path)
    : path_(std::move(path)), snapshot_(std::make_shared<const Snapshot>()) {}

std::shared_ptr<const Rules> ControlFile::rules_of(std::shared_ptr<const Snapshot> snapshot) {
  const Rules* rules = &snapshot->rules;
  return std::shared_ptr<const Rules>(std::move(snapshot), rules);  // aliasing: keeps it alive
}

ControlFile::FileId ControlFile::stat_file() const {
  struct stat st{};
  if (::stat(path_.c_str(), &st) != 0) return FileId{};
  return FileId{true, st.st_dev, st.st_ino, st.st_size,
                static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                    st.st_mtim.tv_nsec};
}

std::shared_ptr<const Rules> ControlFile::current() noexcept {
  std::shared_ptr<const Snapshot> snapshot = snapshot_.load(std::memory_order_acquire);
  if (path_.empty()) return rules_of(std::move(snapshot));
  FileId seen = stat_file();
  if (snapshot->source == seen) return rules_of(std::move(snapshot));
  try {
    return reload(seen);
  } catch (...) {  // out of memory while parsing: keep what was in force
    return rules_of(std::move(snapshot));
  }
}

std::shared_ptr<const Rules> ControlFile::reload(const FileId& seen) {
  std::lock_guard lock(reload_mutex_);
  std::shared_ptr<const Snapshot> previous = snapshot_.load(std::memory_order_acquire);
  if (previous->source == seen) return rules_of(std::move(previous));  // another thread did it

  auto next = std::make_shared<Snapshot>();
  // Identify what is actually read (fstat on the open file), not what stat() saw a moment ago:
  // if the file changes in between, the next call sees a new identity and reads it again.
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st{};
    if (::fstat(fd, &st) == 0) {
      next->source = FileId{true, st.st_dev, st.st_ino, st.st_size,
                            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                                st.st_mtim.tv_nsec};
      ParsedRules parsed = parse_rules(read_all(fd));
      report(parsed.problems);
      next->rules = std::move(parsed.rules);
    }
    ::close(fd);
  }
  next->rules.adopt_counts(previous->rules);
  std::shared_ptr<const Snapshot> published = std::move(next);
  snapshot_.store(published, std::memory_order_release);
  return rules_of(std::move(published));
}

void ControlFile::report(const std::vector<Problem>& problems) {
  for (const Problem& problem : problems) {
    if (!reported_.insert(problem.line + '\n' + problem.reason).second) continue;
    std::fprintf(stderr, "signet-p11fault: %s: ignoring '%s': %s\n", path_.c_str(),
                 problem.line.c_str(), problem.reason.c_str());
  }
}

}  // namespace signet::p11fault
