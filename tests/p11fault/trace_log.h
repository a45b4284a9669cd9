// The trace file: one line `<function> <CKR_NAME>\n` per call the application made, with the
// code it was answered (forwarded or injected), so a test can count C_Login or C_DestroyObject
// calls and their results. Each line is one write() to a file opened with O_APPEND, so lines
// from concurrent threads and processes never interleave. The file is opened per line rather
// than kept open, so that a test may truncate or remove it between steps.
#pragma once

#include <p11-kit/pkcs11.h>

#include <string>

#include "tests/p11fault/functions.h"

namespace signet::p11fault {

class TraceLog {
 public:
  // An empty path: no trace.
  explicit TraceLog(std::string path) : path_(std::move(path)) {}

  // Appends the line; errors are ignored (a trace must not change what the caller sees).
  void record(Fn fn, CK_RV rv) const noexcept;

 private:
  const std::string path_;
};

}  // namespace signet::p11fault
