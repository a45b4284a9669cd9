// The ledger's writer: group commit on one append-only file descriptor. The chain state
// (size, seq, prev) advances only after fdatasync succeeds, and a failed write is cut back to
// the last whole line, so a full disk costs requests but never the chain.
#include "firmware/audit/ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "base/log.h"
#include "firmware/audit/line.h"

namespace signet::audit {

std::string_view event_name(Event event) {
  switch (event) {
    case Event::kTokenIssued: return "token_issued";
    case Event::kKeyGenerated: return "key_generated";
    case Event::kKeyPromoted: return "key_promoted";
    case Event::kKeyDestroyed: return "key_destroyed";
    case Event::kKeyRevoked: return "key_revoked";
    case Event::kKeyAdopted: return "key_adopted";
    case Event::kKeyLost: return "key_lost";
  }
  return "unknown";
}

struct Ledger::Pending {
  std::string body;  // the record as JSON, without seq, prev and the closing brace
  Status status = ok_status();
  bool done = false;
};

namespace {

std::string rfc3339_millis(std::chrono::system_clock::time_point time) {
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis % 1000));
  return text;
}

// Formatting happens in the caller's thread, so the single writer only chains and writes.
std::string format_body(const Record& r) {
  nlohmann::ordered_json line;
  const auto time = r.time == std::chrono::system_clock::time_point{}
                        ? std::chrono::system_clock::now() : r.time;
  line["time"] = rfc3339_millis(time);
  line["event"] = event_name(r.event);
  line["client"] = r.client;
  line["profile"] = r.profile;
  line["sub"] = r.sub;
  line["aud"] = r.aud;
  line["kid"] = r.kid;
  line["jti"] = r.jti;
  line["exp"] = r.exp;
  line["claims_sha256"] = r.claims_json.empty() ? std::string() : sha256_hex(r.claims_json);
  // Replace rather than throw on invalid UTF-8: a client's odd sub must not fail issuance.
  std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  text.pop_back();  // the closing brace; the writer appends seq and prev
  return text;
}

Error write_error(int error) {
  return make_error(Code::kInternal, "the audit ledger cannot be written: " + errno_text(error));
}

// The last line of the file (without its newline), or nothing if the file does not end with
// one. Reads backwards in blocks so that opening a long ledger costs one line, not the file.
std::optional<std::string> read_last_line(int fd, std::uint64_t size) {
  std::string tail;
  std::uint64_t offset = size;
  char block[4096];
  for (;;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof block, offset));
    offset -= want;
    if (::pread(fd, block, want, static_cast<off_t>(offset)) != static_cast<ssize_t>(want)) {
      return std::nullopt;
    }
    tail.insert(0, block, want);
    if (tail.back() != '\n') return std::nullopt;
    const std::size_t start = tail.rfind('\n', tail.size() - 2);
    if (start != std::string::npos) return tail.substr(start + 1, tail.size() - start - 2);
    if (offset == 0) return tail.substr(0, tail.size() - 1);
  }
}

}  // namespace

Result<std::unique_ptr<Ledger>> Ledger::open(const std::string& path, std::size_t max_queued) {
  const auto fail = [&path](const std::string& why) {
    return make_error(Code::kInternal, "cannot open the audit ledger " + path + ": " + why);
  };
  bool created = true;
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  }
  if (fd < 0) return fail(errno_text(errno));
  // Two writers would fork the chain: the second daemon on the same file must not start.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    return fail(error == EWOULDBLOCK ? "another process holds it" : errno_text(error));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return fail(errno_text(error));
  }
  const auto size = static_cast<std::uint64_t>(info.st_size);
  std::uint64_t next_seq = 1;
  std::string prev(kChainStart);
  if (size > 0) {
    const auto last = read_last_line(fd, size);
    const auto fields = last ? parse_line(*last) : std::nullopt;
    if (!fields) {
      ::close(fd);
      return fail("its last line is torn or not a ledger record; check it with "
                  "`signetctl audit verify` and repair it before starting");
    }
    next_seq = fields->seq + 1;
    prev = sha256_hex(*last);
  }
  if (created) {
    // The new file's directory entry must be as durable as the lines written into it.
    const auto dir = std::filesystem::path(path).parent_path();
    const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool synced = dir_fd >= 0 && ::fsync(dir_fd) == 0;
    const int error = errno;
    if (dir_fd >= 0) ::close(dir_fd);
    if (!synced) {
      ::close(fd);
      return fail(errno_text(error));
    }
  }
  return std::unique_ptr<Ledger>(new Ledger(fd, path, size, next_seq, prev, max_queued));
}

Ledger::Ledger(int fd, std::string path, std::uint64_t size, std::uint64_t next_seq,
               std::string prev_hex, std::size_t max_queued)
    : fd_(fd), path_(std::move(path)), max_queued_(max_queued), good_size_(size),
      next_seq_(next_seq), prev_hex_(std::move(prev_hex)), writer_([this] { run_writer(); }) {}

Ledger::~Ledger() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_one();
  writer_.join();
  ::close(fd_);
}

Status Ledger::append(Record record) {
  Pending pending{format_body(record)};
  std::unique_lock lock(mu_);
  if (stopping_) return make_error(Code::kInternal, "the audit ledger is closed");
  if (queue_.size() >= max_queued_) {
    return make_error(Code::kInternal, "the audit ledger is saturated: " +
                                           std::to_string(queue_.size()) + " records wait");
  }
  queue_.push_back(&pending);
  work_.notify_one();
  done_.wait(lock, [&pending] { return pending.done; });
  return pending.status;
}

std::size_t Ledger::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Ledger::run_writer() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and every queued record was committed
    std::deque<Pending*> batch;
    batch.swap(queue_);
    lock.unlock();
    const Status status = commit(batch);
    lock.lock();
    // After done is set the appender may return and free its Pending: touch it no more.
    for (Pending* pending : batch) {
      pending->status = status;
      pending->done = true;
    }
    done_.notify_all();
  }
}

Status Ledger::commit(const std::deque<Pending*>& batch) {
  const auto fail = [this](int error) -> Status {
    // Cut back to the last whole line; the chain goes on from there on the next try. If even
    // that fails, the file may hold part of a line: no write until a truncate succeeds.
    truncate_needed_ = ::ftruncate(fd_, static_cast<off_t>(good_size_)) != 0;
    if (healthy_.exchange(false)) {
      log::error("audit_ledger_unwritable", {{"path", path_}, {"error", errno_text(error)}});
    }
    return write_error(error);
  };
  if (truncate_needed_ && ::ftruncate(fd_, static_cast<off_t>(good_size_)) != 0) {
    return fail(errno);
  }
  truncate_needed_ = false;

  std::string buffer;
  std::uint64_t seq = next_seq_;
  std::string prev = prev_hex_;
  for (const Pending* pending : batch) {
    std::string line = pending->body;
    line += ",\"seq\":" + std::to_string(seq++) + ",\"prev\":\"" + prev + "\"}";
    prev = sha256_hex(line);
    buffer += line;
    buffer.push_back('\n');
  }
  for (std::size_t written = 0; written < buffer.size();) {
    const ssize_t n = ::write(fd_, buffer.data() + written, buffer.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno);
    written += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return fail(errno);

  good_size_ += buffer.size();
  next_seq_ = seq;
  prev_hex_ = std::move(prev);
  if (!healthy_.exchange(true)) log::info("audit_ledger_writable", {{"path", path_}});
  return ok_status();
}

}  // namespace signet::audit
