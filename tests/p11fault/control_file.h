// The control file as the fault module sees it: stat()ed on every call, re-read and re-parsed
// when its identity (device, inode, size, mtime in ns) changed, so a test steers a running
// process by rewriting one file. Re-reading happens under a mutex; the hot path only stats the
// file and loads an atomic shared_ptr to the current rules, because the daemon calls in from
// about a hundred threads at once. A missing file (or no path) means no rules.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "tests/p11fault/rules.h"

namespace signet::p11fault {

class ControlFile {
 public:
  // An empty path: never any rule, and no stat() per call.
  explicit ControlFile(std::string path);

  ControlFile(const ControlFile&) = delete;
  ControlFile& operator=(const ControlFile&) = delete;

  // The rules in force now. Never fails: if the file cannot be read, it has no rules; if
  // re-parsing runs out of memory, the previous rules stay.
  std::shared_ptr<const Rules> current() noexcept;

 private:
  // What tells one version of the file from the next; a missing file is all zeros.
  struct FileId {
    bool exists = false;
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const FileId&) const = default;
  };
  struct Snapshot {
    FileId source;
    Rules rules;
  };

  static std::shared_ptr<const Rules> rules_of(std::shared_ptr<const Snapshot> snapshot);
  FileId stat_file() const;
  std::shared_ptr<const Rules> reload(const FileId& seen);
  // Says each problem once per process on stderr (the file may be re-read many times).
  void report(const std::vector<Problem>& problems);

  const std::string path_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  std::mutex reload_mutex_;
  std::set<std::string> reported_;  // guarded by reload_mutex_
};

}  // namespace signet::p11fault
