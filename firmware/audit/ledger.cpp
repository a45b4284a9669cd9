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
#include <optional>
#include <utility>
#include <vector>

#include "base/catch_all.h"
#include "base/json_text.h"
#include "base/log.h"
#include "base/rfc3339.h"
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
    case Event::kAnchorReset: return "anchor_reset";
  }
  return "unknown";
}

namespace {

// Formatting happens in the caller's thread, so the single writer only chains and writes.
// Invalid UTF-8 is replaced rather than refused: a client's odd sub must not fail issuance.
std::string format_body(const Record& r) {
  const auto time = r.time == std::chrono::system_clock::time_point{}
                        ? std::chrono::system_clock::now() : r.time;
  std::string text;
  text.reserve(384);
  json_text::Object line(text);
  line.string("time", rfc3339_millis(time))
      .string("event", event_name(r.event))
      .string("client", r.client)
      .string("profile", r.profile)
      .string("sub", r.sub)
      .string("aud", r.aud)
      .string("kid", r.kid)
      .string("jti", r.jti)
      .number("exp", r.exp)
      .string("claims_sha256", r.claims_json.empty() ? std::string() : sha256_hex(r.claims_json));
  if (!r.note.empty()) line.string("note", r.note);
  return text;  // without the closing brace: the writer appends seq and prev
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

struct Ledger::Opened {
  int fd = -1;
  bool created = false;
  std::uint64_t size = 0;
  std::uint64_t next_seq = 1;
  std::string prev = std::string(kChainStart);
};

Result<Ledger::Opened> Ledger::open_file(const std::string& path) {
  const auto fail = [&path](const std::string& why) {
    return make_error(Code::kInternal, "cannot open the audit ledger " + path + ": " + why);
  };
  Opened f;
  f.created = true;
  // 0600: the ledger names clients, subjects and audiences; it is for its owner alone.
  f.fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (f.fd < 0 && errno == EEXIST) {
    f.created = false;
    f.fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  }
  if (f.fd < 0) return fail(errno_text(errno));
  const auto give_up = [&f, &path, &fail](const std::string& why) {
    ::close(f.fd);
    if (f.created) ::unlink(path.c_str());
    return fail(why);
  };
  // Two writers would fork the chain: the second daemon on the same file must not start.
  if (::flock(f.fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(f.fd);  // not ours to remove: another process holds it
    return fail(error == EWOULDBLOCK ? "another process holds it" : errno_text(error));
  }
  struct stat info {};
  if (::fstat(f.fd, &info) != 0) return give_up(errno_text(errno));
  f.size = static_cast<std::uint64_t>(info.st_size);
  if (f.size > 0) {
    const auto last = read_last_line(f.fd, f.size);
    const auto fields = last ? parse_line(*last) : std::nullopt;
    if (!fields) {
      return give_up("its last line is torn or not a ledger record; check it with "
                     "`signetctl audit verify` and repair it before starting");
    }
    f.next_seq = fields->seq + 1;
    f.prev = sha256_hex(*last);
  }
  if (f.created) {
    // The new file's directory entry must be as durable as the lines written into it.
    const auto dir = std::filesystem::path(path).parent_path();
    const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool synced = dir_fd >= 0 && ::fsync(dir_fd) == 0;
    const int error = errno;
    if (dir_fd >= 0) ::close(dir_fd);
    if (!synced) return give_up(errno_text(error));
  }
  return f;
}

Result<std::unique_ptr<Ledger>> Ledger::open(const std::string& path, std::size_t max_queued) {
  auto opened = open_file(path);
  if (!opened.ok()) return opened.error();
  return std::unique_ptr<Ledger>(new Ledger(std::move(*opened), path, {.max_queued = max_queued}, nullptr, 0));
}

Result<std::unique_ptr<Ledger>> Ledger::open(const std::string& path, Anchor& anchor, LedgerOptions options) {
  auto opened = open_file(path);
  if (!opened.ok()) return opened.error();
  Opened& f = *opened;
  // Bad input changes nothing: a refused start leaves no new file behind.
  const auto give_up = [&f, &path](Error error) {
    ::close(f.fd);
    if (f.created) ::unlink(path.c_str());
    return error;
  };
  const auto refuse = [&](const std::string& why) {
    return give_up(make_error(Code::kInternal, "refusing to append to the audit ledger " + path + ": " + why +
                                                   ". Restore the file, or accept its state with `signetctl audit "
                                                   "reset-anchor --config FILE` (a ledger line records the reset)"));
  };
  auto anchored = anchor.read();
  if (!anchored.ok()) {
    Error error = anchored.error();
    error.message = "cannot read the audit ledger's head from " + anchor.where() + ": " + error.message;
    return give_up(std::move(error));
  }
  const std::uint64_t lines = f.next_seq - 1;
  const Head here{anchored->value_or(Head{}).epoch, lines, f.prev};
  if (*anchored) {
    const Head& head = **anchored;
    const std::string at = "the head anchored in " + anchor.where() + " is line " + std::to_string(head.lines);
    if (lines < head.lines) {
      return refuse("it ends at line " + std::to_string(lines) + " but " + at + ": lines " + std::to_string(lines + 1) +
                    " to " + std::to_string(head.lines) + " are missing (the file was cut short, emptied or replaced)");
    }
    if (lines == head.lines && f.prev != head.sha256) {
      return refuse("its line " + std::to_string(lines) + " is not the line anchored in " + anchor.where() +
                    " (the file was replaced or edited)");
    }
    if (lines > head.lines) {
      // Lines past the head: a group whose head write failed or was cut short by a stop. The
      // whole chain is checked, since nothing else vouches for them.
      auto report = verify_file(path, head);
      if (!report.ok()) return give_up(report.error());
      if (!report->ok) return refuse(report->reason);
      log::warn("audit_head_caught_up", {{"path", path}, {"lines_past_head", std::to_string(lines - head.lines)}});
    }
  } else {
    log::info("audit_anchor_created", {{"path", path}, {"where", anchor.where()}, {"lines", std::to_string(lines)}});
  }
  if (!*anchored || here != **anchored) {
    if (Status written = anchor.write(here); !written.ok()) return give_up(written.error());
  }
  std::unique_ptr<Ledger> ledger(new Ledger(std::move(f), path, options, &anchor, here.epoch));
  return ledger;
}

Result<Head> Ledger::reset_anchor(const std::string& path, Anchor& anchor, const std::string& who) {
  auto opened = open_file(path);  // also: no daemon holds the file
  if (!opened.ok()) return opened.error();
  const int fd = opened->fd;
  const auto give_up = [fd](Error error) {
    ::close(fd);
    return error;
  };
  auto report = verify_file(path);
  if (!report.ok()) return give_up(report.error());
  if (!report->ok) {
    return give_up(make_error(Code::kInternal, "the audit ledger " + path + " is broken at line " +
                                                   std::to_string(report->broken_line) + " (" + report->reason +
                                                   "): only a whole chain can be anchored"));
  }
  auto previous = anchor.read();
  if (!previous.ok()) return give_up(previous.error());
  Record record;
  record.event = Event::kAnchorReset;
  record.client = "signetctl";
  record.sub = who;
  record.note = *previous ? "replaces the head at line " + std::to_string((*previous)->lines) + " (sha256 " +
                                (*previous)->sha256 + ", epoch " + std::to_string((*previous)->epoch) + ")"
                          : "no head was anchored before";
  const std::uint64_t epoch = *previous ? (*previous)->epoch + 1 : 1;
  // Anchored at the commit (interval 0), so that the head below is the anchored one.
  std::unique_ptr<Ledger> ledger(new Ledger(std::move(*opened), path, {.max_queued = 1}, &anchor, epoch));
  if (Status written = ledger->append(std::move(record)); !written.ok()) return written.error();
  // The writer is idle again: append() returned after the commit, through a mutex.
  return Head{epoch, ledger->next_seq_ - 1, ledger->prev_hex_};
}

Ledger::Ledger(Opened opened, std::string path, LedgerOptions options, Anchor* anchor, std::uint64_t epoch)
    : fd_(opened.fd), path_(std::move(path)), options_(options), anchor_(anchor), epoch_(epoch),
      good_size_(opened.size), next_seq_(opened.next_seq), prev_hex_(std::move(opened.prev)),
      durable_{epoch, opened.next_seq - 1, prev_hex_}, anchored_lines_(opened.next_seq - 1) {
  // open() anchored the file's head before this: the anchorer starts level with it.
  writer_ = std::thread([this] { run_writer(); });
  if (anchors_later()) anchorer_ = std::thread([this] { run_anchorer(); });
}

Ledger::~Ledger() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_one();
  writer_.join();
  if (anchorer_.joinable()) anchorer_.join();
  ::close(fd_);
}

namespace {

// A Done must not throw; should one, the writer goes on with the others.
void tell(const Ledger::Done& done, const Status& status) {
  try {
    done(status);
  } catch (...) {
    log_exception("audit_ledger_done");
  }
}

}  // namespace

void Ledger::append(Record record, Done done) {
  Pending pending{format_body(record), std::move(done)};
  std::unique_lock lock(mu_);
  std::optional<Error> refused;
  if (stopping_) {
    refused = make_error(Code::kInternal, "the audit ledger is closed");
  } else if (queue_.size() >= options_.max_queued) {
    refused = make_error(Code::kInternal, "the audit ledger is saturated: " + std::to_string(queue_.size()) +
                                              " records wait");
  } else {
    queue_.push_back(std::move(pending));
    lock.unlock();
    work_.notify_one();
    return;
  }
  lock.unlock();
  tell(pending.done, Status(std::move(*refused)));
}

Status Ledger::append(Record record) {
  std::mutex mu;
  std::condition_variable answered;
  std::optional<Status> result;
  append(std::move(record), [&](const Status& status) {
    std::lock_guard lock(mu);
    result = status;
    answered.notify_one();  // under the lock: the waiter cannot return and free these before
  });
  std::unique_lock lock(mu);
  answered.wait(lock, [&result] { return result.has_value(); });
  return std::move(*result);
}

std::size_t Ledger::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Ledger::run_writer() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and every queued record was committed
    std::vector<Pending> batch;
    batch.swap(queue_);
    // While the head cannot be anchored, nothing more is written: the head would only fall
    // further behind the answered lines.
    const bool head_refused = anchors_later() && anchor_failing_;
    lock.unlock();
    const Status status =
        head_refused ? Status(make_error(Code::kInternal, "the audit ledger's head cannot be anchored in " +
                                                              anchor_->where() + " (see the log)"))
                     : commit_guarded(batch);
    if (status.ok() && anchors_later()) {
      std::lock_guard published(mu_);
      durable_ = Head{epoch_, next_seq_ - 1, prev_hex_};
    }
    for (const Pending& pending : batch) tell(pending.done, status);
    lock.lock();
  }
  writer_stopped_ = true;
  anchor_wake_.notify_one();
}

// Anchors the newest durable head once per interval (and once more at the stop), so that the
// token is written at most that often whatever the load. A failed write is tried again at the
// next interval; meanwhile the writer refuses new groups.
void Ledger::run_anchorer() {
  std::unique_lock lock(mu_);
  for (bool last = false; !last;) {
    anchor_wake_.wait_for(lock, options_.anchor_interval, [this] { return writer_stopped_; });
    last = writer_stopped_;
    if (durable_.lines == anchored_lines_) continue;
    const Head head = durable_;
    lock.unlock();
    Status written = ok_status();
    try {
      written = anchor_->write(head);
    } catch (...) {
      log_exception("audit_ledger_anchorer");
      written = make_error(Code::kInternal, "the anchor threw (see the log)");
    }
    lock.lock();
    if (written.ok()) {
      anchored_lines_ = head.lines;
      if (anchor_failing_.exchange(false)) log::info("audit_anchor_writable", {{"where", anchor_->where()}});
    } else if (!anchor_failing_.exchange(true)) {
      log::error("audit_anchor_unwritable", {{"where", anchor_->where()}, {"error", written.error().message}});
    }
  }
}

// The writer thread's catch-all. What throws in commit() (an allocation, the anchor) throws
// before the chain's state moves on, or once the lines are durable and the state names them:
// so the batch is refused like a failed write, the next commit first cuts the file back to
// the last whole line and anchors the head again, and the chain stays whole. The writer goes
// on: were it to stop, every append() would wait for good.
Status Ledger::commit_guarded(const std::vector<Pending>& batch) {
  try {
    return commit(batch);
  } catch (...) {
    log_exception("audit_ledger_writer");
    truncate_needed_ = true;
    head_behind_ = anchor_ != nullptr && !anchors_later();
    healthy_.store(false);
    return make_error(Code::kInternal, "the audit ledger's writer failed (see the log)");
  }
}

Status Ledger::commit(const std::vector<Pending>& batch) {
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
  // A head left behind by the last group goes first: at most one group is ever past it.
  if (head_behind_) {
    if (Status anchored = anchor_head(); !anchored.ok()) return anchored;
  }

  std::string buffer;
  std::uint64_t seq = next_seq_;
  std::string prev = prev_hex_;
  for (const Pending& pending : batch) {
    std::string line = pending.body;
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
  // The lines are durable; no one is answered before the head names them too (unless the
  // head is anchored later, by the anchorer). Should that fail, the lines stay (the head may be
  // in the token already: a write can fail after its new object exists) and the next group
  // anchors them first.
  if (!anchors_later()) {
    if (Status anchored = anchor_head(); !anchored.ok()) return anchored;
  }
  if (!healthy_.exchange(true)) log::info("audit_ledger_writable", {{"path", path_}});
  return ok_status();
}

Status Ledger::anchor_head() {
  if (!anchor_) return ok_status();
  const Status written = anchor_->write(Head{epoch_, next_seq_ - 1, prev_hex_});
  head_behind_ = !written.ok();
  if (written.ok()) return written;
  if (healthy_.exchange(false)) {
    log::error("audit_anchor_unwritable", {{"where", anchor_->where()}, {"error", written.error().message}});
  }
  return make_error(Code::kInternal, "the audit ledger's head cannot be anchored in " + anchor_->where() + ": " +
                                         written.error().message);
}

}  // namespace signet::audit
