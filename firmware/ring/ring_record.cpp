#include "firmware/ring/ring_record.h"

#include <nlohmann/json.hpp>

#include "base/strict_json.h"

namespace signet::ring {

std::string_view state_name(KeyState state) {
  switch (state) {
    case KeyState::kNext: return "next";
    case KeyState::kActive: return "active";
    case KeyState::kRetiring: return "retiring";
  }
  return "";
}

std::string encode_record(const RingRecord& record) {
  nlohmann::ordered_json j;
  j["version"] = 1;
  j["serial"] = record.serial;
  j["keys"] = nlohmann::ordered_json::array();
  for (const auto& k : record.keys) {
    j["keys"].push_back({{"id", k.id_hex}, {"kid", k.kid}, {"alg", k.alg}, {"state", state_name(k.state)},
                         {"created_at", k.created_at}, {"activated_at", k.activated_at}});
  }
  return j.dump();
}

Result<RingRecord> decode_record(std::string_view text) {
  JsonError error;
  const auto j = parse_strict_json(text, 8, &error);
  auto bad = [](const std::string& why) { return make_error(Code::kInternal, "the ring record in the token is unreadable: " + why); };
  if (!j) return bad(error.message);
  try {
    if (j->at("version").get<int>() != 1) return bad("unknown version");
    RingRecord record;
    record.serial = j->at("serial").get<std::uint64_t>();
    for (const auto& k : j->at("keys")) {
      RecordEntry e;
      e.id_hex = k.at("id").get<std::string>();
      e.kid = k.at("kid").get<std::string>();
      e.alg = k.at("alg").get<std::string>();
      const auto state = k.at("state").get<std::string>();
      if (state == "next") e.state = KeyState::kNext;
      else if (state == "active") e.state = KeyState::kActive;
      else if (state == "retiring") e.state = KeyState::kRetiring;
      else return bad("unknown key state");
      e.created_at = k.at("created_at").get<std::int64_t>();
      e.activated_at = k.at("activated_at").get<std::int64_t>();
      record.keys.push_back(std::move(e));
    }
    return record;
  } catch (const nlohmann::ordered_json::exception&) {
    return bad("a member is missing or has the wrong type");
  }
}

}  // namespace signet::ring
