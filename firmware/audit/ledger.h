// The audit ledger: one JSON line per issued token and per key event, each line carrying the
// SHA-256 of the line before it, so that an edited, deleted or reordered line breaks the chain
// and `signetctl audit verify` finds it. A line never holds a token, a secret or the PIN; the
// claims appear only as their digest.
//
// A record is acknowledged only once it is on disk (write + fdatasync), so the caller can hand
// out a token only when its record exists. One writer thread commits whatever is queued in a
// single write and a single fdatasync (group commit), so concurrent requests share the flush,
// and a group holds whatever queued while the last one was written: groups grow with the load.
// append(record, done) does not block its caller: done is called once the record is durable (or
// refused), so a request thread serves other connections meanwhile.
//
// Line format, keys in this order:
//   {"time":"2026-11-24T22:32:22.123Z","event":"token_issued","client":..,"profile":..,
//    "sub":..,"aud":..,"kid":..,"jti":..,"exp":1790000000,"claims_sha256":"<hex>",
//    "seq":1,"prev":"<hex>"}
// "prev" is the SHA-256 of the previous line's bytes without its newline (64 zeros for line 1);
// "seq" is the line's position, which tells a deleted line from a reordered one. A line may
// end with a "note" before "seq" (the anchor_reset line says which head it replaced).
//
// The chain cannot show that its newest lines are gone: with an Anchor (anchor.h), the head is
// also kept outside the file, open() refuses a file that does not reach that head, and
// verify_file() checks that it does. With anchor_interval 0 each group commit moves the head
// before anyone is answered; with an interval, a second thread moves it to the newest durable
// line at most once per interval, off the answer path, so the head trails the answered lines by
// up to one interval (docs/API.md, "The audit ledger", says what that costs).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/result.h"
#include "firmware/audit/anchor.h"

namespace signet::audit {

// kAnchorReset: an operator accepted the file as it is and anchored its head anew.
enum class Event {
  kTokenIssued, kKeyGenerated, kKeyPromoted, kKeyDestroyed, kKeyRevoked, kKeyAdopted, kKeyLost, kAnchorReset
};

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
  std::string note;         // written only when set
};

// What verify_file() found. A broken chain is a report, not an Error: Errors are for files
// that cannot be read at all.
struct VerifyReport {
  bool ok = false;
  std::size_t records = 0;      // lines read before the first break (all lines if ok)
  std::size_t broken_line = 0;  // 1-based; 0 when ok
  std::string reason;           // one sentence; empty when ok
  std::string head_sha256;      // digest of the last good line (64 zeros for an empty file)
  // With an anchored head to reach (verify_file's second form):
  bool head_checked = false;
  std::uint64_t head_line = 0;   // the line the head names
  std::uint64_t past_head = 0;   // lines after it (written after the head's last update)
};

inline constexpr std::size_t kDefaultMaxQueued = 10'000;

struct LedgerOptions {
  std::size_t max_queued = kDefaultMaxQueued;  // records waiting for the writer, at most
  // How often the head is anchored: 0 at every group commit, before its records are
  // acknowledged; otherwise at most once per interval, after they are.
  std::chrono::milliseconds anchor_interval{0};
};

class Ledger {
 public:
  // Told once whether a record is durable (ok) or refused; called from the ledger's writer
  // thread, or from append()'s caller when the record is refused at once. Must not throw.
  using Done = std::function<void(const Status&)>;

  // Opens or creates the ledger at path (mode 0600) and continues its chain from the last
  // line. Refuses a file whose last line is torn or not a ledger record: someone must look at
  // it first.
  static Result<std::unique_ptr<Ledger>> open(const std::string& path,
                                              std::size_t max_queued = kDefaultMaxQueued);

  // The same, keeping the head in anchor (which must outlive the ledger). Refuses, with what is
  // missing, a file that does not reach the anchored head (cut short, emptied, replaced); a file
  // past it is checked whole and its head caught up. Without any head yet, the file's own is
  // anchored. Errors: kInternal for the file, the anchor's own (kHsmUnavailable...) for it.
  static Result<std::unique_ptr<Ledger>> open(const std::string& path, Anchor& anchor, LedgerOptions options = {});

  // The operator's way out once a refusal is understood: accepts the file at path as it is
  // (its chain must be intact), appends an anchor_reset line naming the head it replaces and
  // `who`, and anchors that line as the new head (epoch + 1). Fails if a daemon holds the file.
  static Result<Head> reset_anchor(const std::string& path, Anchor& anchor, const std::string& who);

  // Checks the whole chain of the file at path.
  static Result<VerifyReport> verify_file(const std::string& path);
  // The same, and that the chain reaches head (anchor.h): it must hold head.lines lines, the
  // last of them with head.sha256. Lines past it are counted in past_head.
  static Result<VerifyReport> verify_file(const std::string& path, const Head& head);

  ~Ledger();  // commits what is queued, anchors the last head, then stops its threads
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Queues the record and returns; done says when it is durably written, or why not
  // (Code::kInternal): the file cannot be written, the head cannot be anchored, or max_queued
  // records already wait (done is then called before append returns). A failed append leaves
  // the chain as it was; the next append tries the file again.
  void append(Record record, Done done);
  // The same, waiting for the answer (key events, signetctl).
  Status append(Record record);

  // False from a failed write until the next successful one: issuance must stop meanwhile.
  // With anchor_interval, also false while the head cannot be anchored.
  bool healthy() const {
    return healthy_.load(std::memory_order_relaxed) && !anchor_failing_.load(std::memory_order_relaxed);
  }

  // Records waiting for the writer (for /metrics).
  std::size_t queued() const;

 private:
  struct Pending {  // one queued record
    std::string body;  // the record as JSON, without seq, prev and the closing brace
    Done done;
  };

  struct Opened;  // the file and its chain as open() found them
  static Result<Opened> open_file(const std::string& path);
  Ledger(Opened opened, std::string path, LedgerOptions options, Anchor* anchor, std::uint64_t epoch);
  bool anchors_later() const { return anchor_ && options_.anchor_interval.count() > 0; }
  void run_writer();
  void run_anchorer();  // anchors_later() only
  Status commit(const std::vector<Pending>& batch);
  Status commit_guarded(const std::vector<Pending>& batch);  // commit(), exceptions refused
  Status anchor_head();  // writes the head the chain has reached to anchor_, if any

  const int fd_;
  const std::string path_;
  const LedgerOptions options_;
  Anchor* const anchor_;  // null: the head is kept nowhere
  const std::uint64_t epoch_;

  // Touched by the writer thread only: the chain as it stands on disk.
  std::uint64_t good_size_;  // bytes of whole, flushed lines
  std::uint64_t next_seq_;
  std::string prev_hex_;
  bool truncate_needed_ = false;  // a failed write left bytes past good_size_
  bool head_behind_ = false;      // lines are flushed that the anchored head does not name yet

  std::atomic<bool> healthy_{true};
  mutable std::mutex mu_;
  std::condition_variable work_;  // the writer waits for records
  std::vector<Pending> queue_;
  bool stopping_ = false;
  // With anchors_later(), under mu_: the newest durable head and the lines the anchored head
  // names. anchor_failing_: the anchorer's last write failed (groups are refused unwritten).
  Head durable_;
  std::uint64_t anchored_lines_ = 0;
  std::atomic<bool> anchor_failing_{false};
  bool writer_stopped_ = false;
  std::condition_variable anchor_wake_;  // the anchorer waits out its interval, or the stop
  std::thread writer_;
  std::thread anchorer_;
};

}  // namespace signet::audit
