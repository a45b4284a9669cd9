// The admin routes (clients with "admin": true): the key list with the token's own evidence
// per key, rotation on request, and the compromise drill (revoke).
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "firmware/api/handlers.h"

namespace signet::api {
namespace {

// How long an admin request waits for the lease holder to carry it out before it answers.
constexpr std::chrono::seconds kAdminWait{10};

nlohmann::json time_or_null(std::int64_t t) { return t ? nlohmann::json(t) : nlohmann::json(nullptr); }

http::Response key_list(const ApiContext& context, nlohmann::ordered_json extra = nlohmann::ordered_json::object()) {
  const auto snapshot = context.ring.snapshot();
  auto usage = context.ring.read_usage();
  if (!usage.ok()) return http::error_response(usage.error());
  const ring::UsageTotals totals = ring::total_usage(*usage);
  const ring::LifecyclePolicy& policy = context.rotation.policy();
  nlohmann::ordered_json keys = nlohmann::ordered_json::array();
  for (const auto& key : snapshot->keys) {
    const ring::RecordEntry& e = key.entry;
    const auto used = totals.count(e.kid) ? totals.at(e.kid) : ring::KeyUsage{};
    nlohmann::ordered_json k;
    k["kid"] = e.kid;
    k["alg"] = e.alg;
    k["state"] = ring::state_name(e.state);
    k["created_at"] = e.created_at;
    k["sign_after"] = e.state == ring::KeyState::kNext ? nlohmann::json(e.created_at + policy.publish_lead()) : nlohmann::json(nullptr);
    k["activated_at"] = time_or_null(e.activated_at);
    k["retire_at"] = e.state == ring::KeyState::kActive ? nlohmann::json(ring::rotate_at(e, policy)) : time_or_null(e.retired_at);
    k["destroy_at"] = e.state == ring::KeyState::kRetiring ? nlohmann::json(ring::destroy_at(e, totals, policy)) : nlohmann::json(nullptr);
    k["tokens_signed"] = key.counters ? key.counters->signed_count.load() : 0;  // by this replica
    k["tokens_reserved"] = used.tokens;                                         // by all replicas, ahead
    k["latest_exp"] = time_or_null(used.latest_exp);
    k["evidence"] = {{"local", key.local}, {"always_sensitive", key.always_sensitive},
                     {"never_extractable", key.never_extractable}, {"allowed_mechanisms", key.mechanism_bound}};
    keys.push_back(std::move(k));
  }
  extra["keys"] = std::move(keys);
  const std::string held = context.rotation.held_reason();
  if (!held.empty()) extra["rotation_held"] = held;
  return http::json_response(200, extra.dump());
}

// Waits until done() holds for this replica's view of the ring, or the wait runs out.
template <class Done>
bool wait_for(const ApiContext& context, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kAdminWait;
  while (!done(*context.ring.snapshot())) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    context.rotation.run_tick(std::chrono::milliseconds(500));
  }
  return true;
}

}  // namespace

http::Response list_keys(const Call& call) { return key_list(call.context); }

http::Response rotate_keys(const Call& call) {
  const ApiContext& context = call.context;
  const ring::RingKey* before = context.ring.snapshot()->active();
  const std::string old_kid = before ? before->entry.kid : "";
  if (auto asked = context.rotation.request_rotation(); !asked.ok()) return http::error_response(asked.error());
  const bool rotated = wait_for(context, [&](const ring::Snapshot& s) { return s.active() && s.active()->entry.kid != old_kid; });
  // Not rotated yet: the next key is not published long enough; the request stays recorded
  // and the lease holder promotes it as soon as it may (see rotation_held).
  return key_list(context, {{"rotated", rotated}});
}

http::Response revoke_key(const Call& call) {
  const ApiContext& context = call.context;
  const std::string kid(call.request.path_param);
  if (!context.ring.snapshot()->find(kid)) return http::error_response(make_error(Code::kNotFound, "no published key has that kid"));
  if (auto asked = context.rotation.request_revocation(kid); !asked.ok()) return http::error_response(asked.error());
  const bool revoked = wait_for(context, [&](const ring::Snapshot& s) { return !s.find(kid); });
  return key_list(context, {{"revoked", revoked}});
}

}  // namespace signet::api
