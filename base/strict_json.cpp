#include "base/strict_json.h"

#include <set>
#include <vector>

namespace signet {

std::optional<nlohmann::ordered_json> parse_strict_json(std::string_view text, int max_depth,
                                                        JsonError* error) {
  using Event = nlohmann::ordered_json::parse_event_t;
  // Member names seen so far in each open object, innermost last.
  std::vector<std::set<std::string>> open_objects;
  std::string problem;
  auto check = [&](int depth, Event event, nlohmann::ordered_json& parsed) {
    if (!problem.empty()) return false;
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        if (depth >= max_depth) {
          problem = "JSON nesting is deeper than " + std::to_string(max_depth) + " levels";
          // Throwing is the only way to stop nlohmann's parser early.
          throw std::runtime_error(problem);
        }
        if (event == Event::object_start) open_objects.emplace_back();
        break;
      case Event::object_end:
        open_objects.pop_back();
        break;
      case Event::key:
        if (!open_objects.back().insert(parsed.get<std::string>()).second) {
          problem = "duplicate member name in a JSON object";
          throw std::runtime_error(problem);
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    auto value = nlohmann::ordered_json::parse(text.begin(), text.end(), check, true, false);
    return value;
  } catch (const nlohmann::ordered_json::parse_error& e) {
    // nlohmann's own message quotes the input ("last read: ..."): report the offset only,
    // so that a secret or a token in a bad body never reaches an answer or a log.
    if (error) error->message = "malformed JSON near byte " + std::to_string(e.byte);
  } catch (const std::exception&) {
    if (error) error->message = problem.empty() ? "malformed JSON" : problem;
  }
  return std::nullopt;
}

}  // namespace signet
