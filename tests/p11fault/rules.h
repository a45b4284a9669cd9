// The control file's rules, parsed, and the two questions the fault module asks them on every
// call: should this call fail, and how long should it wait first. Parsing is pure (text in,
// rules and problems out) so that the grammar is tested without a module or a token; reading
// the file and reporting problems is control_file.h's job.
//
// Grammar (one directive a line; `#` starts a comment; blank lines are ignored):
//   fail <FUNCS> <CODE> [every <N>] [after <M>]
//   latency_ms <MS> [FUNCS]
//   reboot <GENERATION>
//   capacity <OBJECTS>
// FUNCS is `*` (all_faultable_functions()) or a comma list of entry-point names; CODE is a CKR_
// name or 0x-hex. A line that does not parse is left out whole and reported as a Problem.
#pragma once

#include <p11-kit/pkcs11.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/p11fault/functions.h"

namespace signet::p11fault {

// `fail`: matching calls answer `code` without reaching the real module. Of the matching calls,
// the first `after` go through; after them every `every`-th one fails (every = 1: all of them).
struct FailRule {
  FunctionSet functions;
  CK_RV code = CKR_GENERAL_ERROR;
  std::uint64_t every = 1;
  std::uint64_t after = 0;
  // The rule's canonical text (plus its rank among identical rules): a re-read file keeps the
  // counts of the rules whose key it still has, see Rules::adopt_counts.
  std::string key;
  // Matching calls counted so far; shared with the same rule of later re-reads.
  std::shared_ptr<std::atomic<std::uint64_t>> matched =
      std::make_shared<std::atomic<std::uint64_t>>(0);

  // Counts one matching call (thread-safe) and answers whether that call fails.
  bool count_call() const;
};

// `latency_ms`: matching calls wait `delay` before they are answered.
struct LatencyRule {
  FunctionSet functions;
  std::chrono::milliseconds delay{0};
};

struct Rules {
  std::vector<FailRule> fails;
  std::vector<LatencyRule> latencies;
  // The highest `reboot` generation in the file, if it has one.
  std::optional<std::int64_t> reboot_generation;
  // `capacity`: the token holds at most this many token objects (as the calling session sees
  // them); C_CreateObject and C_GenerateKeyPair answer CKR_DEVICE_MEMORY beyond, as a full
  // HSM does, while destroying an object makes room again.
  std::optional<std::uint64_t> capacity;

  // The code `fn` must answer instead of being forwarded, if any. Rules are tried in file
  // order; each one that names `fn` counts the call, until one of them fails it (that one
  // wins, and the rules after it do not count this call).
  std::optional<CK_RV> fault_for(Fn fn) const;

  // How long `fn` waits before it is answered: the sum of the latency lines that name it.
  std::chrono::milliseconds latency_for(Fn fn) const;

  // Makes each fail rule share the counter of the rule with the same key in `previous`, so
  // that rewriting the file (say, to add a latency line) does not restart `every`/`after`.
  void adopt_counts(const Rules& previous);
};

// A line that was left out, and why.
struct Problem {
  std::string line;
  std::string reason;
};

struct ParsedRules {
  Rules rules;
  std::vector<Problem> problems;
};

ParsedRules parse_rules(std::string_view text);

}  // namespace signet::p11fault
