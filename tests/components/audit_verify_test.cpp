#include "tools/signetctl/audit_verify.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

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

Run run(const std::string& path, bool json) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = audit_verify_command(path, json, out, err);
  return {code, out.str(), err.str()};
}

TEST(AuditVerify, IntactChain) {
  TempDir dir;
  const auto path = dir.file("audit.log");
  make_ledger(path, 5);
  const auto text = run(path, false);
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_EQ(text.out, "ok: 5 records, chain intact\n");
  EXPECT_EQ(text.err, "");
  const auto json = run(path, true);
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(json.out),
            nlohmann::json::parse(R"({"ok":true,"records":5,"broken_line":null,"reason":null})"));
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
