#include "tools/signetctl/audit_verify.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "firmware/audit/line.h"
#include "tests/components/ledger_files.h"

namespace signet::ctl {
namespace {

using audit::testing::make_ledger;
using audit::testing::read_lines;
using audit::testing::TempDir;
using audit::testing::write_lines;

struct Run {
  int exit_code;
  std::string out;
  std::string err;
};

Run run(const std::string& path, bool json, const AnchoredHead& anchored = {}) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = audit_verify_command(path, json, anchored, out, err);
  return {code, out.str(), err.str()};
}

// The head of the ledger at path after its first `lines` lines.
audit::Head head_at(const std::string& path, std::size_t lines) {
  return audit::Head{0, lines, audit::sha256_hex(read_lines(path)[lines - 1])};
}

TEST(AuditVerify, IntactChain) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  make_ledger(path, 5);
  const auto text = run(path, false);
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_EQ(text.out,
            "ok: 5 records, chain intact; the head was not checked (--config CONFIG checks it against the token)\n");
  EXPECT_EQ(text.err, "");
  const auto json = run(path, true);
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(json.out),
            nlohmann::json::parse(R"({"ok":true,"records":5,"broken_line":null,"reason":null,"head_checked":false,)"
                                  R"("head_line":null,"lines_past_head":null})"));
}

TEST(AuditVerify, ReachesTheAnchoredHead) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  make_ledger(path, 5);
  const auto at_end = run(path, false, AnchoredHead{true, head_at(path, 5), "the token"});
  EXPECT_EQ(at_end.exit_code, 0) << at_end.err;
  EXPECT_EQ(at_end.out, "ok: 5 records, chain intact, reaching the head anchored in the token (line 5)\n");
  const auto past = run(path, true, AnchoredHead{true, head_at(path, 3), "the token"});
  EXPECT_EQ(past.exit_code, 0);
  const auto answer = nlohmann::json::parse(past.out);
  EXPECT_EQ(answer["head_checked"], true);
  EXPECT_EQ(answer["head_line"], 3);
  EXPECT_EQ(answer["lines_past_head"], 2);
}

TEST(AuditVerify, ATruncatedLedgerSaysWhatIsMissing) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  make_ledger(path, 5);
  const audit::Head head = head_at(path, 5);
  auto lines = read_lines(path);
  lines.resize(3);
  write_lines(path, lines);
  const auto text = run(path, false, AnchoredHead{true, head, "the token"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_EQ(text.err,
            "signetctl: audit ledger broken at line 4: the ledger ends at line 3 but its anchored head is line 5: "
            "lines 4 to 5 are missing (cut short, emptied or replaced)\n");
  // Without the config, the chain alone passes, and says that the head was not checked.
  EXPECT_EQ(run(path, false).exit_code, 0);
  // A token without a head proves nothing.
  const auto no_head = run(path, false, AnchoredHead{true, std::nullopt, "the token"});
  EXPECT_EQ(no_head.exit_code, 1);
  EXPECT_NE(no_head.err.find("holds no ledger head"), std::string::npos) << no_head.err;
}

TEST(AuditVerify, BrokenChainNamesTheLine) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  make_ledger(path, 5);
  auto lines = read_lines(path);
  lines.erase(lines.begin() + 1);
  write_lines(path, lines);
  const auto text = run(path, false);
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_EQ(text.out, "");
  EXPECT_EQ(text.err.rfind("signetctl: audit ledger broken at line 2: ", 0), 0u) << text.err;
  const auto json = run(path, true);
  EXPECT_EQ(json.exit_code, 1);
  const auto answer = nlohmann::json::parse(json.out);
  EXPECT_EQ(answer["ok"], false);
  EXPECT_EQ(answer["records"], 1);
  EXPECT_EQ(answer["broken_line"], 2);
  EXPECT_TRUE(answer["reason"].is_string());
}

TEST(AuditVerify, MissingFile) {
  TempDir dir;
  const auto text = run(dir.file("absent.log"), false);
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_EQ(text.err.rfind("signetctl: cannot read the audit ledger", 0), 0u) << text.err;
  const auto json = run(dir.file("absent.log"), true);
  EXPECT_EQ(json.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(json.out)["ok"], false);
}

}  // namespace
}  // namespace signet::ctl
