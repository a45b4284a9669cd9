#include "firmware/audit/ledger.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "firmware/audit/line.h"
#include "tests/components/ledger_files.h"

namespace signet::audit {
namespace {

using testing::make_ledger;
using testing::read_all;
using testing::read_lines;
using testing::TempDir;
using testing::token_record;
using testing::write_lines;

VerifyReport verify(const std::string& path) {
  auto report = Ledger::verify_file(path);
  EXPECT_TRUE(report.ok()) << report.error().message;
  return report.ok() ? *report : VerifyReport{};
}

TEST(Ledger, SixteenThreadsAppendOneUnbrokenChain) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  {
    auto ledger = Ledger::open(path);
    ASSERT_TRUE(ledger.ok()) << ledger.error().message;
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < 1000; i += 16) EXPECT_TRUE((*ledger)->append(token_record(i)).ok());
      });
    }
    for (auto& thread : threads) thread.join();
  }
  const auto report = verify(path);
  EXPECT_TRUE(report.ok) << report.reason;
  EXPECT_EQ(report.records, 1000u);
  std::set<std::string> jtis;
  for (const auto& line : read_lines(path)) jtis.insert(nlohmann::json::parse(line)["jti"]);
  EXPECT_EQ(jtis.size(), 1000u);  // every record once, none lost or doubled
}

TEST(Ledger, LineHoldsTheFieldsAndOnlyTheClaimsDigest) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  auto record = token_record(7);
  record.claims_json = R"({"sub":"user7","role":"do-not-log-me"})";
  {
    auto ledger = Ledger::open(path);
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE((*ledger)->append(record).ok());
    Record key_event;
    key_event.event = Event::kKeyPromoted;
    key_event.kid = "kid-2";
    ASSERT_TRUE((*ledger)->append(key_event).ok());
  }
  const auto text = read_all(path);
  EXPECT_EQ(text.find("do-not-log-me"), std::string::npos);
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  const auto first = nlohmann::json::parse(lines[0]);
  for (const char* field : {"time", "event", "client", "profile", "sub", "aud", "kid", "jti",
                            "exp", "claims_sha256", "seq", "prev"}) {
    EXPECT_TRUE(first.contains(field)) << field;
  }
  EXPECT_EQ(first["event"], "token_issued");
  EXPECT_EQ(first["sub"], "user7");
  EXPECT_EQ(first["exp"], 1'790'000'007);
  EXPECT_EQ(first["claims_sha256"], sha256_hex(record.claims_json));
  EXPECT_EQ(first["prev"], std::string(kChainStart));
  const auto second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(second["event"], "key_promoted");
  EXPECT_EQ(second["prev"], sha256_hex(lines[0]));
}

// Ten good lines, then one change; verify must name the line the change is at.
class Tampering : public ::testing::Test {
 protected:
  void SetUp() override {
    make_ledger(path_, 10);
    lines_ = read_lines(path_);
    ASSERT_EQ(lines_.size(), 10u);
    ASSERT_TRUE(verify(path_).ok);
  }
  TempDir dir_;
  std::string path_ = dir_.file("audit.log");
  std::vector<std::string> lines_;
};

TEST_F(Tampering, EditedLineIsFound) {
  const auto at = lines_[3].find("user4");
  ASSERT_NE(at, std::string::npos);
  lines_[3].replace(at, 5, "admin");
  write_lines(path_, lines_);
  const auto report = verify(path_);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.broken_line, 4u) << report.reason;
  EXPECT_NE(report.reason.find("changed"), std::string::npos) << report.reason;
}

TEST_F(Tampering, DeletedLineIsFound) {
  lines_.erase(lines_.begin() + 3);
  write_lines(path_, lines_);
  const auto report = verify(path_);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.broken_line, 4u) << report.reason;
  EXPECT_NE(report.reason.find("deleted"), std::string::npos) << report.reason;
}

TEST_F(Tampering, SwappedLinesAreFound) {
  std::swap(lines_[3], lines_[4]);
  write_lines(path_, lines_);
  const auto report = verify(path_);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.broken_line, 4u) << report.reason;
  EXPECT_NE(report.reason.find("reordered"), std::string::npos) << report.reason;
}

TEST_F(Tampering, TornLastLineIsFound) {
  std::filesystem::resize_file(path_, std::filesystem::file_size(path_) - 20);
  const auto report = verify(path_);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.broken_line, 10u) << report.reason;
  EXPECT_EQ(report.records, 9u);
  EXPECT_NE(report.reason.find("torn"), std::string::npos) << report.reason;
}

TEST(Ledger, ReopenContinuesTheChain) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  make_ledger(path, 3);
  const auto head = verify(path).head_sha256;
  {
    auto ledger = Ledger::open(path);
    ASSERT_TRUE(ledger.ok()) << ledger.error().message;
    ASSERT_TRUE((*ledger)->append(token_record(4)).ok());
    ASSERT_TRUE((*ledger)->append(token_record(5)).ok());
  }
  const auto report = verify(path);
  EXPECT_TRUE(report.ok) << report.reason;
  EXPECT_EQ(report.records, 5u);
  const auto fourth = nlohmann::json::parse(read_lines(path)[3]);
  EXPECT_EQ(fourth["prev"], head);
  EXPECT_EQ(fourth["seq"], 4);
}

TEST(Ledger, OpenRefusesATornLastLine) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  make_ledger(path, 3);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 5);
  const auto ledger = Ledger::open(path);
  ASSERT_FALSE(ledger.ok());
  EXPECT_NE(ledger.error().message.find("torn"), std::string::npos) << ledger.error().message;
}

TEST(Ledger, OneWriterPerFile) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  auto first = Ledger::open(path);
  ASSERT_TRUE(first.ok());
  const auto second = Ledger::open(path);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("another process"), std::string::npos);
}

// The file limit makes the kernel refuse writes past it (EFBIG, with SIGXFSZ ignored), the
// way a full disk would: part of the batch may land, and must be cut back.
TEST(Ledger, FailedWriteKeepsTheChainAndRecovers) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  auto ledger = Ledger::open(path);
  ASSERT_TRUE(ledger.ok());
  ASSERT_TRUE((*ledger)->append(token_record(1)).ok());
  ASSERT_TRUE((*ledger)->append(token_record(2)).ok());
  const auto size = std::filesystem::file_size(path);

  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit tight = old_limit;
  tight.rlim_cur = size + 40;  // less than a line: the write lands in part
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tight), 0);
  const auto failed = (*ledger)->append(token_record(3));
  const auto failed_again = (*ledger)->append(token_record(4));
  const bool healthy_while_full = (*ledger)->healthy();
  const auto size_while_full = std::filesystem::file_size(path);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  std::signal(SIGXFSZ, old_handler);

  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Code::kInternal);
  EXPECT_EQ(failed.error().message.rfind("the audit ledger cannot be written: ", 0), 0u)
      << failed.error().message;
  EXPECT_FALSE(failed_again.ok());
  EXPECT_FALSE(healthy_while_full);
  EXPECT_EQ(size_while_full, size);  // the partial line was cut back

  ASSERT_TRUE((*ledger)->append(token_record(5)).ok());
  EXPECT_TRUE((*ledger)->healthy());
  const auto report = verify(path);
  EXPECT_TRUE(report.ok) << report.reason;
  EXPECT_EQ(report.records, 3u);
}

// The real thing: a full filesystem. Mounting needs root; elsewhere the test above covers it.
TEST(Ledger, FullDiskFailsClosedThenRecovers) {
  TempDir dir;
  const auto mount_point = dir.file("small");
  std::filesystem::create_directory(mount_point);
  if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  }
  const auto path = mount_point + "/audit.log";
  const auto filler = mount_point + "/filler";
  int successes = 0;
  bool failed = false;
  bool healthy_while_full = true;
  {
    auto ledger = Ledger::open(path);
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE((*ledger)->append(token_record(0)).ok());
    ++successes;
    {
      const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      const std::string block(4096, 'x');
      while (::write(fd, block.data(), block.size()) > 0) {
      }
      ::close(fd);
    }
    // The ledger's last page may still have room: append until the disk refuses.
    for (int i = 1; i < 200 && !failed; ++i) {
      const auto status = (*ledger)->append(token_record(i));
      failed = !status.ok();
      successes += status.ok() ? 1 : 0;
      if (failed) {
        EXPECT_NE(status.error().message.find("No space"), std::string::npos);
      }
    }
    healthy_while_full = (*ledger)->healthy();
    std::filesystem::remove(filler);
    EXPECT_TRUE((*ledger)->append(token_record(1000)).ok());
    ++successes;
    EXPECT_TRUE((*ledger)->healthy());
  }
  const auto report = verify(path);
  ::umount(mount_point.c_str());
  EXPECT_TRUE(failed);
  EXPECT_FALSE(healthy_while_full);
  EXPECT_TRUE(report.ok) << report.reason;
  EXPECT_EQ(report.records, static_cast<std::size_t>(successes));
}

// A FIFO nobody reads stalls the writer in write(), so records pile up behind it.
TEST(Ledger, FullQueueFailsFast) {
  TempDir dir;
  const auto path = dir.file("stalled");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto ledger = Ledger::open(path, /*max_queued=*/2);
  ASSERT_TRUE(ledger.ok()) << ledger.error().message;
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  auto big = token_record(0);
  big.sub.assign(200'000, 's');  // more than a pipe holds
  std::vector<std::thread> waiting;
  waiting.emplace_back([&] { EXPECT_FALSE((*ledger)->append(big).ok()); });
  // Bytes in the pipe: the writer has taken the big record and is stuck writing it.
  for (int in_pipe = 0; in_pipe == 0;) ::ioctl(reader, FIONREAD, &in_pipe);
  for (std::size_t i = 1; i <= 2; ++i) {
    waiting.emplace_back([&, i] { EXPECT_FALSE((*ledger)->append(token_record(i)).ok()); });
    while ((*ledger)->queued() != i) std::this_thread::yield();
  }
  const auto refused = (*ledger)->append(token_record(3));
  EXPECT_FALSE(refused.ok());
  if (!refused.ok()) {
    EXPECT_NE(refused.error().message.find("saturated"), std::string::npos);
  }
  // Drain the pipe: the writes finish, fdatasync on a FIFO fails, and everyone is answered.
  std::thread drain([reader] {
    char buffer[65536];
    for (int idle = 0; idle < 200;) {
      if (::read(reader, buffer, sizeof buffer) > 0) idle = 0; else { ++idle; ::usleep(1000); }
    }
  });
  for (auto& thread : waiting) thread.join();
  drain.join();
  ::close(reader);
}

// append(record, done) returns at once: the caller's thread is free while the writer is stuck
// (here in write() on a FIFO nobody reads yet), and done tells the outcome later, once each.
TEST(Ledger, AppendWithDoneReturnsBeforeTheRecordIsDurable) {
  TempDir dir;
  const auto path = dir.file("stalled");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto ledger = Ledger::open(path);
  ASSERT_TRUE(ledger.ok()) << ledger.error().message;
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  std::atomic<int> told{0};
  std::atomic<int> failed{0};
  const auto done = [&](const Status& status) {
    if (!status.ok()) failed.fetch_add(1);
    told.fetch_add(1);
  };
  auto big = token_record(0);
  big.sub.assign(200'000, 's');  // more than a pipe holds: the writer blocks in write()
  (*ledger)->append(big, done);
  for (int in_pipe = 0; in_pipe == 0;) ::ioctl(reader, FIONREAD, &in_pipe);
  for (int i = 1; i <= 50; ++i) (*ledger)->append(token_record(i), done);  // none of these blocks
  EXPECT_EQ(told.load(), 0);
  EXPECT_EQ((*ledger)->queued(), 50u);
  std::thread drain([reader] {
    char buffer[65536];
    for (int idle = 0; idle < 200;) {
      if (::read(reader, buffer, sizeof buffer) > 0) idle = 0; else { ++idle; ::usleep(1000); }
    }
  });
  while (told.load() < 51) std::this_thread::yield();
  drain.join();
  ::close(reader);
  EXPECT_EQ(failed.load(), 51);  // fdatasync on a FIFO fails: every record is refused, once
}

// Records appended without waiting are committed in groups that grow with what queued during
// the last commit, and each is told once; the chain holds them all, in the order appended.
TEST(Ledger, AppendsWithoutWaitingShareGroupCommits) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  constexpr int kRecords = 2000;
  std::atomic<int> told{0};
  {
    auto ledger = Ledger::open(path);
    ASSERT_TRUE(ledger.ok()) << ledger.error().message;
    for (int i = 0; i < kRecords; ++i) {
      (*ledger)->append(token_record(i), [&told](const Status& status) {
        EXPECT_TRUE(status.ok());
        told.fetch_add(1);
      });
    }
  }  // the destructor commits what is queued
  EXPECT_EQ(told.load(), kRecords);
  const auto report = verify(path);
  EXPECT_TRUE(report.ok) << report.reason;
  ASSERT_EQ(report.records, static_cast<std::size_t>(kRecords));
  const auto lines = read_lines(path);
  for (int i = 0; i < kRecords; i += 499) EXPECT_EQ(nlohmann::json::parse(lines[i])["jti"], "jti-" + std::to_string(i));
}

// Group commit shares one fdatasync among concurrent appends. Printed, not asserted: the
// numbers depend on the disk.
TEST(Ledger, MeasureGroupCommit) {
  for (const int threads : {1, 16}) {
    TempDir dir;
    auto ledger = Ledger::open(dir.file("audit.log"));
    ASSERT_TRUE(ledger.ok());
    const int per_thread = threads == 1 ? 500 : 2000 / threads;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        for (int i = 0; i < per_thread; ++i) EXPECT_TRUE((*ledger)->append(token_record(i)).ok());
      });
    }
    for (auto& worker : workers) worker.join();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::printf("[ measure  ] %2d thread(s): %d appends in %.3f s = %.0f appends/s\n", threads,
                per_thread * threads, took.count(), per_thread * threads / took.count());
  }
}

}  // namespace
}  // namespace signet::audit
