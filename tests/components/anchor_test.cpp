// The ledger with its head kept outside the file (firmware/audit/anchor.h), here in memory: a
// file cut short, emptied, removed or replaced is refused, a head write that fails withholds
// the answer, and the operator's reset is a line of the ledger.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "firmware/audit/anchor.h"
#include "firmware/audit/ledger.h"
#include "firmware/audit/line.h"
#include "tests/components/ledger_files.h"

namespace signet::audit {
namespace {

using testing::read_all;
using testing::read_lines;
using testing::TempDir;
using testing::token_record;
using testing::write_lines;

// Written by the ledger's threads while a test reads it: the test reads through lines() or
// after the ledger is gone, and the flags are atomic.
class MemoryAnchor final : public Anchor {
 public:
  Result<std::optional<Head>> read() override {
    std::lock_guard lock(mu);
    return head;
  }
  Status write(const Head& h) override {
    if (fail_writes) return make_error(Code::kHsmUnavailable, "the token is away");
    if (throw_writes) throw std::runtime_error("the anchor threw");
    std::lock_guard lock(mu);
    ++writes;
    head = h;
    return ok_status();
  }
  std::string where() const override { return "memory"; }
  std::uint64_t lines() {
    std::lock_guard lock(mu);
    return head ? head->lines : 0;
  }

  std::mutex mu;
  std::optional<Head> head;
  std::atomic<bool> fail_writes{false};
  std::atomic<bool> throw_writes{false};
  int writes = 0;
};

// Polls cond for up to 10 s (the anchorer's interval in these tests is 20 ms).
template <typename Cond>
bool eventually(Cond cond) {
  for (int i = 0; i < 2000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return cond();
}

constexpr LedgerOptions kLater{.anchor_interval = std::chrono::milliseconds(20)};

void append(const std::string& path, MemoryAnchor& anchor, int from, int count) {
  auto ledger = Ledger::open(path, anchor);
  ASSERT_TRUE(ledger.ok()) << ledger.error().message;
  for (int i = from; i < from + count; ++i) ASSERT_TRUE((*ledger)->append(token_record(i)).ok());
}

std::string refusal(const std::string& path, MemoryAnchor& anchor) {
  auto ledger = Ledger::open(path, anchor);
  return ledger.ok() ? "(opened)" : ledger.error().message;
}

TEST(Anchor, HeadEncodesInAgeOrder) {
  const Head a{0, 9, std::string(kChainStart)}, b{0, 10, std::string(64, 'f')}, c{1, 2, std::string(kChainStart)};
  EXPECT_LT(a.encode(), b.encode());
  EXPECT_LT(b.encode(), c.encode());
  EXPECT_EQ(Head::decode(b.encode()), b);
  for (const char* bad : {"", "0 1 x", "000000000a 00000000000000000001 0000000000000000000000000000000000000000000000000000000000000000"}) {
    EXPECT_FALSE(Head::decode(bad)) << bad;
  }
}

TEST(Anchor, EachCommitMovesTheHeadToTheLastLine) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  MemoryAnchor anchor;
  append(path, anchor, 1, 5);
  ASSERT_TRUE(anchor.head);
  EXPECT_EQ(anchor.head->lines, 5u);
  EXPECT_EQ(anchor.head->sha256, sha256_hex(read_lines(path).back()));
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  append(path, anchor, 6, 2);  // a restart reaches the head and goes on
  EXPECT_EQ(anchor.head->lines, 7u);
  const auto report = Ledger::verify_file(path, *anchor.head);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok && report->head_checked) << report->reason;
}

// With an interval the answer does not wait for the head: appends succeed while the head
// trails, the head catches up within the interval, it is written far less often than the
// groups are committed, and the stop anchors the last line.
TEST(Anchor, WithAnIntervalTheHeadFollowsTheAnswersAndTheStopAnchorsTheLastLine) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  MemoryAnchor anchor;
  {
    auto ledger = Ledger::open(path, anchor, kLater);
    ASSERT_TRUE(ledger.ok()) << ledger.error().message;
    for (int i = 1; i <= 200; ++i) ASSERT_TRUE((*ledger)->append(token_record(i)).ok());
    EXPECT_TRUE(eventually([&] { return anchor.lines() == 200; })) << anchor.lines();
    {
      std::lock_guard lock(anchor.mu);
      EXPECT_LT(anchor.writes, 200);  // one per interval, not one per commit (each append was a commit)
    }
    for (int i = 201; i <= 203; ++i) ASSERT_TRUE((*ledger)->append(token_record(i)).ok());
  }
  EXPECT_EQ(anchor.head->lines, 203u);
  EXPECT_EQ(anchor.head->sha256, sha256_hex(read_lines(path).back()));
  const auto report = Ledger::verify_file(path, *anchor.head);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok && report->head_checked && report->past_head == 0) << report->reason;
}

// A head that cannot be written stops issuance (fail closed): once the anchorer has failed, new
// records are refused without being written, until the head is written again.
TEST(Anchor, WithAnIntervalAHeadThatCannotBeWrittenRefusesRecordsUntilItCan) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  MemoryAnchor anchor;
  auto ledger = Ledger::open(path, anchor, kLater);
  ASSERT_TRUE(ledger.ok()) << ledger.error().message;
  ASSERT_TRUE((*ledger)->append(token_record(1)).ok());
  anchor.fail_writes = true;
  ASSERT_TRUE((*ledger)->append(token_record(2)).ok());  // durable; its head fails later
  Status refused = ok_status();
  ASSERT_TRUE(eventually([&] { return !(refused = (*ledger)->append(token_record(3))).ok(); }));
  EXPECT_NE(refused.error().message.find("head cannot be anchored"), std::string::npos) << refused.error().message;
  EXPECT_FALSE((*ledger)->healthy());
  const std::size_t lines_while_failing = read_lines(path).size();
  EXPECT_FALSE((*ledger)->append(token_record(4)).ok());
  EXPECT_EQ(read_lines(path).size(), lines_while_failing);  // refused records are not written
  anchor.fail_writes = false;
  ASSERT_TRUE(eventually([&] { return (*ledger)->append(token_record(5)).ok(); }));
  EXPECT_TRUE((*ledger)->healthy());
  ledger->reset();
  const auto report = Ledger::verify_file(path, *anchor.head);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok && report->past_head == 0) << report->reason;
}

TEST(Anchor, AFileThatStopsShortOfTheHeadIsRefusedAndLeftAsItIs) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  MemoryAnchor anchor;
  append(path, anchor, 1, 5);
  auto lines = read_lines(path);
  lines.resize(3);
  write_lines(path, lines);
  const std::string before = read_all(path);
  EXPECT_NE(refusal(path, anchor).find("it ends at line 3 but the head anchored in memory is line 5: lines 4 to 5 are "
                                       "missing"),
            std::string::npos)
      << refusal(path, anchor);
  EXPECT_EQ(read_all(path), before);
  EXPECT_EQ(anchor.head->lines, 5u);
  const auto report = Ledger::verify_file(path, *anchor.head);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->broken_line, 4u);
  EXPECT_NE(report->reason.find("lines 4 to 5 are missing"), std::string::npos) << report->reason;

  write_lines(path, {});  // emptied
  EXPECT_NE(refusal(path, anchor).find("lines 1 to 5 are missing"), std::string::npos);
  std::filesystem::remove(path);  // removed: refused, and no new file is left behind
  EXPECT_NE(refusal(path, anchor).find("lines 1 to 5 are missing"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Anchor, AReplacedFileIsRefused) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  const auto other = dir.file("other.log");
  MemoryAnchor anchor;
  MemoryAnchor elsewhere;
  append(path, anchor, 1, 4);
  append(other, elsewhere, 100, 4);  // a whole chain of the same length, but another one
  std::filesystem::rename(other, path);
  EXPECT_NE(refusal(path, anchor).find("its line 4 is not the line anchored in memory"), std::string::npos)
      << refusal(path, anchor);
  const auto report = Ledger::verify_file(path, *anchor.head);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->broken_line, 4u);
}

TEST(Anchor, AFailedHeadWriteWithholdsTheAnswerAndIsCaughtUp) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  MemoryAnchor anchor;
  {
    auto ledger = Ledger::open(path, anchor);
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE((*ledger)->append(token_record(1)).ok());
    anchor.fail_writes = true;
    // The line is flushed but its head is not: no one is answered, issuance stops.
    EXPECT_FALSE((*ledger)->append(token_record(2)).ok());
    EXPECT_FALSE((*ledger)->healthy());
    EXPECT_EQ(read_lines(path).size(), 2u);
    // While the head lags, nothing more is written: at most one group is ever past it.
    EXPECT_FALSE((*ledger)->append(token_record(3)).ok());
    EXPECT_EQ(read_lines(path).size(), 2u);
    EXPECT_EQ(anchor.head->lines, 1u);
    // A file past its head by lines written after it verifies, and says so.
    const auto report = Ledger::verify_file(path, *anchor.head);
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok);
    EXPECT_EQ(report->past_head, 1u);
    anchor.fail_writes = false;
    EXPECT_TRUE((*ledger)->append(token_record(4)).ok());
    EXPECT_TRUE((*ledger)->healthy());
    EXPECT_EQ(anchor.head->lines, 3u);
  }
  // A stop between the flush and the head: the next start checks the lines past it and
  // catches the head up.
  anchor.head = Head{anchor.head->epoch, 2, sha256_hex(read_lines(path)[1])};
  append(path, anchor, 5, 1);
  EXPECT_EQ(anchor.head->lines, 4u);
}

// The writer thread's catch-all: an exception in a commit refuses that batch as a failed write
// would, and the writer goes on with the chain whole.
TEST(Anchor, AnExceptionInTheWriterRefusesTheBatchAndTheWriterGoesOn) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  MemoryAnchor anchor;
  auto ledger = Ledger::open(path, anchor);
  ASSERT_TRUE(ledger.ok());
  ASSERT_TRUE((*ledger)->append(token_record(1)).ok());
  anchor.throw_writes = true;
  const Status refused = (*ledger)->append(token_record(2));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kInternal);
  EXPECT_FALSE((*ledger)->healthy());
  anchor.throw_writes = false;
  EXPECT_TRUE((*ledger)->append(token_record(3)).ok());
  EXPECT_TRUE((*ledger)->healthy());
  EXPECT_EQ(read_lines(path).size(), 3u);
  EXPECT_EQ(anchor.head->lines, 3u);
  const auto report = Ledger::verify_file(path, *anchor.head);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok && report->head_checked) << report->reason;
}

TEST(Anchor, AnOldLedgerIsAnchoredAtItsFirstOpen) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  testing::make_ledger(path, 3);  // written before heads were kept
  MemoryAnchor anchor;
  append(path, anchor, 4, 0);
  ASSERT_TRUE(anchor.head);
  EXPECT_EQ(anchor.head->lines, 3u);
}

TEST(Anchor, ResetAcceptsTheFileAndIsItselfALine) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  MemoryAnchor anchor;
  append(path, anchor, 1, 5);
  auto lines = read_lines(path);
  lines.resize(2);
  write_lines(path, lines);
  ASSERT_NE(refusal(path, anchor), "(opened)");

  const auto head = Ledger::reset_anchor(path, anchor, "alice (uid 1000)");
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->lines, 3u);
  EXPECT_EQ(head->epoch, 1u);
  EXPECT_EQ(anchor.head, *head);
  const auto last = nlohmann::json::parse(read_lines(path).back());
  EXPECT_EQ(last["event"], "anchor_reset");
  EXPECT_EQ(last["sub"], "alice (uid 1000)");
  EXPECT_NE(last["note"].get<std::string>().find("replaces the head at line 5"), std::string::npos);
  const auto report = Ledger::verify_file(path, *anchor.head);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->reason;
  append(path, anchor, 6, 1);
  EXPECT_EQ(anchor.head->lines, 4u);
  EXPECT_EQ(anchor.head->epoch, 1u);

  // A broken chain is not anchored: it must be repaired first.
  lines = read_lines(path);
  lines[0][10] = lines[0][10] == '1' ? '2' : '1';
  write_lines(path, lines);
  const auto refused = Ledger::reset_anchor(path, anchor, "alice");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("only a whole chain can be anchored"), std::string::npos);
}

TEST(Anchor, ResetIsRefusedWhileADaemonHoldsTheFile) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  MemoryAnchor anchor;
  auto ledger = Ledger::open(path, anchor);
  ASSERT_TRUE(ledger.ok());
  const auto refused = Ledger::reset_anchor(path, anchor, "alice");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("another process holds it"), std::string::npos);
}

}  // namespace
}  // namespace signet::audit
