// A SAX handler that builds the document itself, so that it can stop at the first duplicate
// name or at the depth cap: nlohmann's own DOM parser keeps the last duplicate and has no
// depth limit. UTF-8 validity, surrogate pairing and finite numbers are nlohmann's lexer's.
#include "base/strict_json.h"

#include <utility>
#include <vector>

namespace signet {
namespace {

template <class Json>
class StrictDomBuilder {
 public:
  explicit StrictDomBuilder(std::size_t max_depth) : max_depth_(max_depth) {}

  bool null() { return put(Json(nullptr)); }
  bool boolean(bool v) { return put(Json(v)); }
  bool number_integer(typename Json::number_integer_t v) { return put(Json(v)); }
  bool number_unsigned(typename Json::number_unsigned_t v) { return put(Json(v)); }
  bool number_float(typename Json::number_float_t v, const typename Json::string_t&) { return put(Json(v)); }
  bool string(typename Json::string_t& v) { return put(Json(std::move(v))); }
  bool binary(typename Json::binary_t&) { return fail("binary values are not JSON"); }

  bool start_object(std::size_t) { return open(Json::value_t::object); }
  bool start_array(std::size_t) { return open(Json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(typename Json::string_t& name) {
    // The parser only calls key() inside an object, which is then on top of the stack.
    if (stack_.back()->contains(name)) return fail("duplicate member name in a JSON object");
    pending_key_ = std::move(name);
    return true;
  }

  bool parse_error(std::size_t byte, const std::string&, const nlohmann::detail::exception&) {
    // nlohmann's own message quotes the input ("last read: ..."): report the offset only, so
    // that a secret or a token in a bad body never reaches an answer or a log.
    return fail("malformed JSON near byte " + std::to_string(byte));
  }

  Json take() { return std::move(root_); }
  const std::string& problem() const { return problem_; }

 private:
  bool fail(std::string why) {
    if (problem_.empty()) problem_ = std::move(why);
    return false;
  }

  // Places a value where the grammar says it goes; returns where it landed.
  Json* place(Json&& value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    Json& slot = parent[pending_key_];
    slot = std::move(value);
    return &slot;
  }

  bool put(Json&& value) {
    place(std::move(value));
    return true;
  }

  bool open(typename Json::value_t type) {
    if (stack_.size() >= max_depth_) return fail("JSON nesting is deeper than " + std::to_string(max_depth_) + " levels");
    stack_.push_back(place(Json(type)));
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  std::size_t max_depth_;
  Json root_;
  std::vector<Json*> stack_;  // open containers; ancestors never move while children are added
  typename Json::string_t pending_key_;
  std::string problem_;
};

template <class Json>
std::optional<Json> parse(std::string_view text, std::size_t max_depth, JsonError* error) {
  // nlohmann skips a UTF-8 byte order mark silently; RFC 8259 §8.1 forbids sending one.
  if (!text.empty() && static_cast<unsigned char>(text.front()) == 0xEF) {
    if (error) error->message = "a byte order mark is not JSON";
    return std::nullopt;
  }
  StrictDomBuilder<Json> builder(max_depth);
  const bool ok = Json::sax_parse(text.begin(), text.end(), &builder, Json::input_format_t::json,
                                  /*strict=*/true, /*ignore_comments=*/false);
  if (!ok) {
    if (error) error->message = builder.problem().empty() ? "malformed JSON" : builder.problem();
    return std::nullopt;
  }
  return builder.take();
}

}  // namespace

std::optional<nlohmann::ordered_json> parse_strict_json(std::string_view text, std::size_t max_depth,
                                                        JsonError* error) {
  return parse<nlohmann::ordered_json>(text, max_depth, error);
}

std::optional<nlohmann::json> parse_strict_json_sorted(std::string_view text, std::size_t max_depth,
                                                       JsonError* error) {
  return parse<nlohmann::json>(text, max_depth, error);
}

}  // namespace signet
