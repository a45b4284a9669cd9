// A SAX handler that builds the DOM itself so that it can stop at the first duplicate name or
// at the depth cap: nlohmann's own DOM parser keeps the last duplicate and has no depth limit.
// UTF-8 validity, surrogate pairing and finite numbers are enforced by nlohmann's lexer/parser.
#include "firmware/verify/strict_json.h"

#include <string>
#include <utility>
#include <vector>

namespace signet::verify::internal {
namespace {

using json = nlohmann::json;

class StrictDomBuilder {
 public:
  explicit StrictDomBuilder(std::size_t max_depth) : max_depth_(max_depth) {}

  bool null() { return put(json(nullptr)); }
  bool boolean(bool v) { return put(json(v)); }
  bool number_integer(json::number_integer_t v) { return put(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return put(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return put(json(v)); }
  bool string(json::string_t& v) { return put(json(std::move(v))); }
  bool binary(json::binary_t&) { return false; }  // not produced by JSON text; refuse anyway

  bool start_object(std::size_t) { return open(json::value_t::object); }
  bool start_array(std::size_t) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& name) {
    // The parser only calls key() inside an object, which is then on top of the stack.
    if (stack_.back()->contains(name)) return false;  // duplicate member name
    pending_key_ = std::move(name);
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

  json take() { return std::move(root_); }

 private:
  // Places a value where the grammar says it goes; returns where it landed.
  json* place(json&& value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    json& slot = parent[pending_key_];
    slot = std::move(value);
    return &slot;
  }

  bool put(json&& value) {
    place(std::move(value));
    return true;
  }

  bool open(json::value_t type) {
    if (stack_.size() >= max_depth_) return false;
    stack_.push_back(place(json(type)));
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  std::size_t max_depth_;
  json root_;
  std::vector<json*> stack_;  // open containers; ancestors never move while children are added
  std::string pending_key_;
};

}  // namespace

std::optional<nlohmann::json> parse_strict_json(std::string_view text, std::size_t max_depth) {
  // nlohmann skips a UTF-8 byte order mark silently; RFC 8259 §8.1 forbids sending one.
  if (!text.empty() && static_cast<unsigned char>(text.front()) == 0xEF) return std::nullopt;
  StrictDomBuilder builder(max_depth);
  const bool ok = json::sax_parse(text.begin(), text.end(), &builder,
                                  json::input_format_t::json, /*strict=*/true,
                                  /*ignore_comments=*/false);
  if (!ok) return std::nullopt;
  return builder.take();
}

}  // namespace signet::verify::internal
