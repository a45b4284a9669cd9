// The control file grammar (see rules.h) and the per-call decisions made from its rules.
#include "tests/p11fault/rules.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "tests/p11fault/rv_names.h"

namespace signet::p11fault {
namespace {

std::vector<std::string_view> split(std::string_view text, auto is_separator) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_separator(text[i])) ++i;
    std::size_t start = i;
    while (i < text.size() && !is_separator(text[i])) ++i;
    if (i > start) parts.push_back(text.substr(start, i - start));
  }
  return parts;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

template <typename Integer>
std::optional<Integer> parse_integer(std::string_view text) {
  Integer value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// `*` or a comma list of entry-point names; an error message for an unknown name.
std::optional<FunctionSet> parse_functions(std::string_view text, std::string* error) {
  if (text == "*") return all_faultable_functions();
  FunctionSet set;
  for (std::string_view name : split(text, [](char c) { return c == ','; })) {
    std::optional<Fn> fn = find_function(name);
    if (!fn) {
      *error = "unknown function '" + std::string(name) + "'";
      return std::nullopt;
    }
    set.set(static_cast<std::size_t>(*fn));
  }
  if (set.none()) {
    *error = "no function named";
    return std::nullopt;
  }
  return set;
}

// The rest of a `fail` line after FUNCS and CODE: `every N` and `after M`, each at most once.
bool parse_fail_options(const std::vector<std::string_view>& words, FailRule* rule,
                        std::string* error) {
  bool seen_every = false;
  bool seen_after = false;
  for (std::size_t i = 3; i < words.size(); i += 2) {
    std::string_view option = words[i];
    if (i + 1 >= words.size()) {
      *error = "'" + std::string(option) + "' needs a number";
      return false;
    }
    std::optional<std::uint64_t> number = parse_integer<std::uint64_t>(words[i + 1]);
    if (option == "every" && !seen_every && number && *number >= 1) {
      rule->every = *number;
      seen_every = true;
    } else if (option == "after" && !seen_after && number) {
      rule->after = *number;
      seen_after = true;
    } else {
      *error = "bad option '" + std::string(option) + " " + std::string(words[i + 1]) +
               "' (every N>=1, after M>=0, each once)";
      return false;
    }
  }
  return true;
}

std::optional<FailRule> parse_fail(const std::vector<std::string_view>& words,
                                   std::string* error) {
  if (words.size() < 3) {
    *error = "usage: fail <FUNCS> <CODE> [every <N>] [after <M>]";
    return std::nullopt;
  }
  FailRule rule;
  std::optional<FunctionSet> functions = parse_functions(words[1], error);
  if (!functions) return std::nullopt;
  rule.functions = *functions;
  std::optional<CK_RV> code = parse_rv(words[2]);
  if (!code) {
    *error = "unknown code '" + std::string(words[2]) + "' (a CKR_ name or 0x-hex)";
    return std::nullopt;
  }
  rule.code = *code;
  if (!parse_fail_options(words, &rule, error)) return std::nullopt;
  rule.key = rule.functions.to_string() + " " + std::to_string(rule.code) + " " +
             std::to_string(rule.every) + " " + std::to_string(rule.after);
  return rule;
}

std::optional<LatencyRule> parse_latency(const std::vector<std::string_view>& words,
                                         std::string* error) {
  std::optional<std::uint32_t> ms;
  if (words.size() == 2 || words.size() == 3) ms = parse_integer<std::uint32_t>(words[1]);
  if (!ms) {
    *error = "usage: latency_ms <MS> [FUNCS]";
    return std::nullopt;
  }
  LatencyRule rule{all_faultable_functions(), std::chrono::milliseconds(*ms)};
  if (words.size() == 3) {
    std::optional<FunctionSet> functions = parse_functions(words[2], error);
    if (!functions) return std::nullopt;
    rule.functions = *functions;
  }
  return rule;
}

}  // namespace

bool FailRule::count_call() const {
  std::uint64_t n = matched->fetch_add(1, std::memory_order_relaxed) + 1;
  return n > after && (n - after) % every == 0;
}

std::optional<CK_RV> Rules::fault_for(Fn fn) const {
  const auto index = static_cast<std::size_t>(fn);
  for (const FailRule& rule : fails) {
    if (rule.functions.test(index) && rule.count_call()) return rule.code;
  }
  return std::nullopt;
}

std::chrono::milliseconds Rules::latency_for(Fn fn) const {
  const auto index = static_cast<std::size_t>(fn);
  std::chrono::milliseconds total{0};
  for (const LatencyRule& rule : latencies) {
    if (rule.functions.test(index)) total += rule.delay;
  }
  return total;
}

void Rules::adopt_counts(const Rules& previous) {
  std::map<std::string_view, const FailRule*> by_key;
  for (const FailRule& rule : previous.fails) by_key.emplace(rule.key, &rule);
  for (FailRule& rule : fails) {
    auto found = by_key.find(rule.key);
    if (found != by_key.end()) rule.matched = found->second->matched;
  }
}

ParsedRules parse_rules(std::string_view text) {
  ParsedRules parsed;
  std::map<std::string, int> identical;  // rank of each fail rule among identical ones
  for (std::string_view line : split(text, [](char c) { return c == '\n'; })) {
    std::string_view content = line.substr(0, line.find('#'));
    std::vector<std::string_view> words = split(content, is_blank);
    if (words.empty()) continue;
    std::string error;
    if (words[0] == "fail") {
      if (std::optional<FailRule> rule = parse_fail(words, &error)) {
        rule->key += "#" + std::to_string(identical[rule->key]++);
        parsed.rules.fails.push_back(std::move(*rule));
        continue;
      }
    } else if (words[0] == "latency_ms") {
      if (std::optional<LatencyRule> rule = parse_latency(words, &error)) {
        parsed.rules.latencies.push_back(*rule);
        continue;
      }
    } else if (words[0] == "reboot") {
      std::optional<std::int64_t> generation;
      if (words.size() == 2) generation = parse_integer<std::int64_t>(words[1]);
      if (generation) {
        parsed.rules.reboot_generation =
            std::max(parsed.rules.reboot_generation.value_or(*generation), *generation);
        continue;
      }
      error = "usage: reboot <GENERATION>";
    } else if (words[0] == "capacity") {
      std::optional<std::uint64_t> objects;
      if (words.size() == 2) objects = parse_integer<std::uint64_t>(words[1]);
      if (objects) {
        parsed.rules.capacity = *objects;
        continue;
      }
      error = "usage: capacity <OBJECTS>";
    } else {
      error = "unknown directive '" + std::string(words[0]) + "'";
    }
    while (!line.empty() && is_blank(line.back())) line.remove_suffix(1);
    parsed.problems.push_back(Problem{std::string(line), error});
  }
  return parsed;
}

}  // namespace signet::p11fault
