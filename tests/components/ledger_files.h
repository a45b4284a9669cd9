// Helpers for the ledger tests: a private directory, and a ledger file as lines to tamper with.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "firmware/audit/ledger.h"

namespace signet::audit::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "signet-ledger-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline Record token_record(int i) {
  Record r;
  r.event = Event::kTokenIssued;
  r.client = "client-" + std::to_string(i % 3);
  r.profile = "access";
  r.sub = "user" + std::to_string(i);
  r.aud = "platxa-api";
  r.kid = "kid-1";
  r.jti = "jti-" + std::to_string(i);
  r.exp = 1'790'000'000 + i;
  r.claims_json = R"({"sub":"user)" + std::to_string(i) + R"("})";
  return r;
}

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(read_all(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const auto& line : lines) out << line << '\n';
}

// A ledger of n token records at path, written through the real writer.
inline void make_ledger(const std::string& path, int n) {
  auto ledger = Ledger::open(path);
  ASSERT_TRUE(ledger.ok()) << ledger.error().message;
  for (int i = 1; i <= n; ++i) ASSERT_TRUE((*ledger)->append(token_record(i)).ok());
}

}  // namespace signet::audit::testing
