#include "firmware/ring/ring_record.h"

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/strict_json.h"

namespace signet::ring {
namespace {

using Json = nlohmann::ordered_json;
constexpr std::size_t kSerialWidth = 20;

std::string with_serial(std::uint64_t serial, const Json& body) {
  char prefix[kSerialWidth + 2];
  std::snprintf(prefix, sizeof prefix, "%020" PRIu64 " ", serial);
  return prefix + body.dump();
}

Error unreadable(std::string_view what, const std::string& why) {
  return make_error(Code::kInternal, "the " + std::string(what) + " in the token is unreadable: " + why);
}

// Splits "<20 digits> <json>" and parses the JSON strictly.
Result<std::pair<std::uint64_t, Json>> split(std::string_view text, std::string_view what) {
  if (text.size() < kSerialWidth + 1 || text[kSerialWidth] != ' ') return unreadable(what, "no serial");
  std::uint64_t serial = 0;
  for (std::size_t i = 0; i < kSerialWidth; ++i) {
    if (text[i] < '0' || text[i] > '9') return unreadable(what, "no serial");
    serial = serial * 10 + static_cast<std::uint64_t>(text[i] - '0');
  }
  JsonError error;
  auto body = parse_strict_json(text.substr(kSerialWidth + 1), 8, &error);
  if (!body) return unreadable(what, error.message);
  return std::make_pair(serial, std::move(*body));
}

std::optional<KeyState> parse_state(const std::string& name) {
  if (name == "next") return KeyState::kNext;
  if (name == "active") return KeyState::kActive;
  if (name == "retiring") return KeyState::kRetiring;
  return std::nullopt;
}

}  // namespace

std::string_view state_name(KeyState state) {
  switch (state) {
    case KeyState::kNext: return "next";
    case KeyState::kActive: return "active";
    case KeyState::kRetiring: return "retiring";
  }
  return "";
}

const RecordEntry* RingRecord::find(std::string_view kid) const {
  for (const auto& k : keys) {
    if (k.kid == kid) return &k;
  }
  return nullptr;
}

RecordEntry* RingRecord::find(std::string_view kid) {
  return const_cast<RecordEntry*>(static_cast<const RingRecord*>(this)->find(kid));
}

const RecordEntry* RingRecord::active() const {
  for (const auto& k : keys) {
    if (k.state == KeyState::kActive) return &k;
  }
  return nullptr;
}

const RecordEntry* RingRecord::next() const {
  for (const auto& k : keys) {
    if (k.state == KeyState::kNext) return &k;
  }
  return nullptr;
}

std::string encode_record(const RingRecord& record) {
  Json j;
  j["version"] = 2;
  j["keys"] = Json::array();
  for (const auto& k : record.keys) {
    Json entry = {{"id", k.id_hex}, {"kid", k.kid}, {"alg", k.alg}, {"state", state_name(k.state)},
                  {"created_at", k.created_at}, {"activated_at", k.activated_at}, {"retired_at", k.retired_at}};
    if (!k.jwk.empty()) entry["jwk"] = k.jwk;
    if (k.adopted) entry["adopted"] = true;
    j["keys"].push_back(std::move(entry));
  }
  if (!record.destroying.empty()) j["destroying"] = record.destroying;
  return with_serial(record.serial, j);
}

Result<RingRecord> decode_record(std::string_view text) {
  auto parts = split(text, "ring record");
  if (!parts.ok()) return parts.error();
  const Json& j = parts->second;
  try {
    if (j.at("version").get<int>() != 2) {
      // Not damage: a newer Signet wrote it, and this one must not "repair" what it cannot read.
      return make_error(Code::kConfig, "the ring record in the token has a version this signetd does not know");
    }
    RingRecord record;
    record.serial = parts->first;
    for (const auto& k : j.at("keys")) {
      RecordEntry e;
      e.id_hex = k.at("id").get<std::string>();
      e.kid = k.at("kid").get<std::string>();
      e.alg = k.at("alg").get<std::string>();
      const auto state = parse_state(k.at("state").get<std::string>());
      if (!state) return unreadable("ring record", "unknown key state");
      e.state = *state;
      e.created_at = k.at("created_at").get<std::int64_t>();
      e.activated_at = k.at("activated_at").get<std::int64_t>();
      e.retired_at = k.at("retired_at").get<std::int64_t>();
      // Optional: records written before they existed lack them.
      if (k.contains("jwk")) e.jwk = k.at("jwk").get<std::string>();
      if (k.contains("adopted")) e.adopted = k.at("adopted").get<bool>();
      record.keys.push_back(std::move(e));
    }
    if (j.contains("destroying")) record.destroying = j.at("destroying").get<std::vector<std::string>>();
    return record;
  } catch (const Json::exception&) {
    return unreadable("ring record", "a member is missing or has the wrong type");
  }
}

std::string encode_usage(const UsageRecord& usage) {
  Json j;
  j["replica"] = usage.replica;
  j["keys"] = Json::object();
  for (const auto& [kid, u] : usage.keys) j["keys"][kid] = {{"latest_exp", u.latest_exp}, {"tokens", u.tokens}};
  return with_serial(usage.serial, j);
}

Result<UsageRecord> decode_usage(std::string_view text) {
  auto parts = split(text, "usage record");
  if (!parts.ok()) return parts.error();
  const Json& j = parts->second;
  try {
    UsageRecord usage;
    usage.serial = parts->first;
    usage.replica = j.at("replica").get<std::string>();
    for (const auto& [kid, u] : j.at("keys").items()) {
      usage.keys[kid] = KeyUsage{u.at("latest_exp").get<std::int64_t>(), u.at("tokens").get<std::uint64_t>()};
    }
    return usage;
  } catch (const Json::exception&) {
    return unreadable("usage record", "a member is missing or has the wrong type");
  }
}

}  // namespace signet::ring
