// The chain check behind `signetctl audit verify`, and the line rules it shares with the
// writer. It streams the file, so a ledger of any length is checked in constant memory.
#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "base/hex.h"
#include "base/strict_json.h"
#include "firmware/audit/ledger.h"
#include "firmware/audit/line.h"

namespace signet::audit {

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return hex::encode(digest, length);
}

std::optional<ChainFields> parse_line(std::string_view line) {
  JsonError error;
  // Depth 2 is plenty: a record is one flat object.
  const auto json = parse_strict_json(line, 2, &error);
  if (!json || !json->is_object()) return std::nullopt;
  const auto event = json->find("event");
  const auto seq = json->find("seq");
  const auto prev = json->find("prev");
  if (event == json->end() || seq == json->end() || prev == json->end()) return std::nullopt;
  if (!event->is_string() || !seq->is_number_unsigned() || !prev->is_string()) return std::nullopt;
  const auto& name = event->get_ref<const std::string&>();
  bool known = false;
  for (Event e : {Event::kTokenIssued, Event::kKeyGenerated, Event::kKeyPromoted,
                  Event::kKeyDestroyed, Event::kKeyRevoked, Event::kAnchorReset}) {
    known = known || name == event_name(e);
  }
  const auto& prev_hex = prev->get_ref<const std::string&>();
  if (!known || prev_hex.size() != kChainStart.size() ||
      !hex::is_lowercase(prev_hex)) {
    return std::nullopt;
  }
  return ChainFields{seq->get<std::uint64_t>(), prev_hex};
}

std::string errno_text(int error) {
  char buffer[256];
  return strerror_r(error, buffer, sizeof buffer);  // the GNU strerror_r returns the text
}

namespace {

struct RawLine {
  std::string text;         // without the newline
  bool terminated = false;  // false: the file ends inside this line
};

bool read_line(std::istream& in, RawLine* line) {
  line->text.clear();
  if (!std::getline(in, line->text)) return false;
  line->terminated = !in.eof();  // getline sets eof only when no newline ended the line
  return true;
}

Result<VerifyReport> check_chain(const std::string& path, const Head* head);

}  // namespace

Result<VerifyReport> Ledger::verify_file(const std::string& path) { return check_chain(path, nullptr); }

Result<VerifyReport> Ledger::verify_file(const std::string& path, const Head& head) { return check_chain(path, &head); }

namespace {

Result<VerifyReport> check_chain(const std::string& path, const Head* head) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(Code::kNotFound,
                      "cannot read the audit ledger " + path + ": " + errno_text(errno));
  }
  VerifyReport report;
  report.head_sha256 = std::string(kChainStart);
  const auto broken = [&report](std::size_t line, std::string why) {
    report.broken_line = line;
    report.records = line - 1;
    report.reason = std::move(why);
    return report;
  };

  RawLine current;
  RawLine next;
  bool have = read_line(in, &current);
  for (std::size_t n = 1; have; ++n) {
    // One line of lookahead tells a swap (the next line goes back) from a deletion.
    const bool have_next = read_line(in, &next);
    const auto fields = parse_line(current.text);
    const std::string at = "line " + std::to_string(n);
    if (!current.terminated || (!fields && !have_next)) {
      return broken(n, at + " is the last and is torn (an incomplete write) or not a record");
    }
    if (!fields) return broken(n, at + " is not a ledger record (edited?)");
    if (fields->seq != n) {
      const std::string found = " holds record " + std::to_string(fields->seq);
      const auto following = have_next ? parse_line(next.text) : std::nullopt;
      if (fields->seq > n && !(following && following->seq < fields->seq)) {
        return broken(n, at + found + ": the line before it was deleted");
      }
      return broken(n, at + found + ": lines were reordered or duplicated");
    }
    if (fields->prev != report.head_sha256) {
      if (n == 1) return broken(1, "line 1 does not start a chain: its prev is not zeros");
      // The usual edit changes a field of line n-1, which line n's prev no longer matches.
      return broken(n - 1, "line " + std::to_string(n - 1) +
                               " was changed after it was written: line " + std::to_string(n) +
                               " recorded another digest for it");
    }
    report.head_sha256 = sha256_hex(current.text);
    report.records = n;
    if (head && n == head->lines && report.head_sha256 != head->sha256) {
      return broken(n, at + " is not the line anchored as the head (the ledger was replaced or edited)");
    }
    std::swap(current, next);
    have = have_next;
  }
  if (in.bad()) {
    return make_error(Code::kInternal, "cannot read the audit ledger " + path + ": " +
                                           errno_text(errno));
  }
  if (head) {
    report.head_checked = true;
    report.head_line = head->lines;
    if (report.records < head->lines) {
      report.broken_line = report.records + 1;
      report.reason = "the ledger ends at line " + std::to_string(report.records) + " but its anchored head is line " +
                      std::to_string(head->lines) + ": lines " + std::to_string(report.records + 1) + " to " +
                      std::to_string(head->lines) + " are missing (cut short, emptied or replaced)";
      return report;
    }
    report.past_head = report.records - head->lines;
  }
  report.ok = true;
  return report;
}

}  // namespace

}  // namespace signet::audit
