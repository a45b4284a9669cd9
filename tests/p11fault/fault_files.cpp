#include "tests/p11fault/fault_files.h"

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/support/softhsm_token.h"

namespace signet::p11fault::testing {
namespace {

struct Files : FaultFiles {
  Files() {
    std::string base = std::filesystem::temp_directory_path().string() + "/signet-p11fault-XXXXXX";
    if (::mkdtemp(base.data()) == nullptr) {
      error = "mkdtemp failed";
      return;
    }
    dir = base;
    control = dir + "/control";
    trace = dir + "/trace";
    ::setenv("SIGNET_P11FAULT_MODULE", signet::testing::softhsm_module_path(), 1);
    ::setenv("SIGNET_P11FAULT_CONTROL", control.c_str(), 1);
    ::setenv("SIGNET_P11FAULT_TRACE", trace.c_str(), 1);
  }
  ~Files() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace

const FaultFiles& fault_files() {
  static Files files;
  return files;
}

bool write_control(const std::string& text) {
  const std::string& path = fault_files().control;
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out.good()) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

std::vector<std::string> read_trace() {
  std::vector<std::string> lines;
  std::ifstream in(fault_files().trace);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

void clear_trace() {
  std::error_code ec;
  std::filesystem::remove(fault_files().trace, ec);
}

}  // namespace signet::p11fault::testing
