// The audit ledger: one JSON line per issued token and per key event, each line carrying the
// SHA-256 of the line before it, so that an edited, deleted or reordered line breaks the chain
// and `signetctl audit verify` finds it. A line never holds a token, a secret or the PIN; the
// claims appear only as their digest.
//
// append() returns only once the record is on disk (write + fdatasync), so the caller can hand
// out a token only when its record exists. One writer thread commits whatever is queued in a
// single write and a single fdatasync (group commit), so concurrent requests share the flush.
//
// Line format, keys in this order:
//   {"time":"2026-11-24T22:32:22.123Z","event":"token_issued","client":..,"profile":..,
//    "sub":..,"aud":..,"kid":..,"jti":..,"exp":1790000000,"claims_sha256":"<hex>",
//    "seq":1,"prev":"<hex>"}
// "prev" is the SHA-256 of the previous line's bytes without its newline (64 zeros for line 1);
// "seq" is the line's position, which tells a deleted line from a reordered one. Nothing can
// detect the loss of the newest lines: keep the head digest (VerifyReport::head_sha256)
// elsewhere if that matters.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "base/result.h"

namespace signet::audit {

enum class Event { kTokenIssued, kKeyGenerated, kKeyPromoted, kKeyDestroyed, kKeyRevoked, kKeyAdopted, kKeyLost };

// The word written in the "event" field, e.g. "token_issued".
std::string_view event_name(Event event);

struct Record {
  std::chrono::system_clock::time_point time{};  // left at the epoch: stamped at append()
  Event event = Event::kTokenIssued;
  std::string client;
  std::string profile;
  std::string sub;
  std::string aud;
  std::string kid;
  std::string jti;
  std::int64_t exp = 0;     // Unix seconds; 0 for key events
  std::string claims_json;  // never written: only its SHA-256 is (empty: no digest)
};

// What verify_file() found. A broken chain is a report, not an Error: Errors are for files
// that cannot be read at all.
struct VerifyReport {
  bool ok = false;
  std::size_t records = 0;      // lines read before the first break (all lines if ok)
  std::size_t broken_line = 0;  // 1-based; 0 when ok
  std::string reason;           // one sentence; empty when ok
  std::string head_sha256;      // digest of the last good line (64 zeros for an empty file)
};

inline constexpr std::size_t kDefaultMaxQueued = 10'000;

class Ledger {
 public:
  // Opens or creates the ledger at path and continues its chain from the last line. Refuses a
  // file whose last line is torn or not a ledger record: someone must look at it first.
  static Result<std::unique_ptr<Ledger>> open(const std::string& path,
                                              std::size_t max_queued = kDefaultMaxQueued);

  // Checks the whole chain of the file at path.
  static Result<VerifyReport> verify_file(const std::string& path);

  ~Ledger();  // commits what is queued, then stops the writer
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Blocks until the record is durably written, or answers why not (Code::kInternal): the
  // file cannot be written, or max_queued records already wait. A failed append leaves the
  // chain as it was; the next append tries the file again.
  Status append(Record record);

  // False from a failed write until the next successful one: issuance must stop meanwhile.
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }

  // Records waiting for the writer (for /metrics).
  std::size_t queued() const;

 private:
  struct Pending;  // one waiting append(), on its caller's stack

  Ledger(int fd, std::string path, std::uint64_t size, std::uint64_t next_seq,
         std::string prev_hex, std::size_t max_queued);
  void run_writer();
  Status commit(const std::deque<Pending*>& batch);

  const int fd_;
  const std::string path_;
  const std::size_t max_queued_;

  // Touched by the writer thread only: the chain as it stands on disk.
  std::uint64_t good_size_;  // bytes of whole, flushed lines
  std::uint64_t next_seq_;
  std::string prev_hex_;
  bool truncate_needed_ = false;  // a failed write left bytes past good_size_

  std::atomic<bool> healthy_{true};
  mutable std::mutex mu_;
  std::condition_variable work_;  // the writer waits for records
  std::condition_variable done_;  // appenders wait for their batch
  std::deque<Pending*> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace signet::audit
