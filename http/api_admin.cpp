// The admin routes (clients with "admin": true): the key list with the token's own evidence
// per key, rotation on request, and the compromise drill (revoke).
#include <nlohmann/json.hpp>
#include <thread>

#include "http/api.h"

namespace signet::http {
namespace {

// How long an admin request waits for the lease holder to carry it out before it answers.
constexpr std::chrono::seconds kAdminWait{10};

Result<Caller> authenticate_admin(const ApiContext& context, const Request& request) {
  auto client = authenticate(context, request);
  if (!client.ok()) return client;
  if (!(*client)->admin) return make_error(Code::kPermissionDenied, "only admin clients manage keys");
  return client;
}

nlohmann::json time_or_null(std::int64_t t) { return t ? nlohmann::json(t) : nlohmann::json(nullptr); }

Response key_list(const ApiContext& context, nlohmann::ordered_json extra = nlohmann::ordered_json::object()) {
  const auto snapshot = context.ring.snapshot();
  auto usage = context.ring.read_usage();
  if (!usage.ok()) return error_response(usage.error());
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
  return json_response(200, extra.dump());
}

// Waits until done() holds for this replica's view of the ring, or the wait runs out.
template <class Done>
bool wait_for(const ApiContext& context, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kAdminWait;
  while (!done(*context.ring.snapshot())) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    context.rotation.wake();
    context.rotation.wait_ticks(1, std::chrono::milliseconds(500));
  }
  return true;
}

Response list_keys(const ApiContext& context, const Request& request) {
  if (auto admin = authenticate_admin(context, request); !admin.ok()) return error_response(admin.error());
  return key_list(context);
}

Response rotate(const ApiContext& context, const Request& request) {
  if (auto admin = authenticate_admin(context, request); !admin.ok()) return error_response(admin.error());
  const ring::RingKey* before = context.ring.snapshot()->active();
  const std::string old_kid = before ? before->entry.kid : "";
  if (auto asked = context.rotation.request_rotation(); !asked.ok()) return error_response(asked.error());
  const bool rotated = wait_for(context, [&](const ring::Snapshot& s) { return s.active() && s.active()->entry.kid != old_kid; });
  // Not rotated yet: the next key is not published long enough; the request stays recorded
  // and the lease holder promotes it as soon as it may (see rotation_held).
  return key_list(context, {{"rotated", rotated}});
}

Response revoke(const ApiContext& context, const Request& request) {
  if (auto admin = authenticate_admin(context, request); !admin.ok()) return error_response(admin.error());
  const std::string kid(request.path_param);
  if (!context.ring.snapshot()->find(kid)) return error_response(make_error(Code::kNotFound, "no published key has that kid"));
  if (auto asked = context.rotation.request_revocation(kid); !asked.ok()) return error_response(asked.error());
  const bool revoked = wait_for(context, [&](const ring::Snapshot& s) { return !s.find(kid); });
  return key_list(context, {{"revoked", revoked}});
}

}  // namespace

void add_admin_routes(Router& router, const ApiContext& context) {
  const auto* c = &context;
  router.add("GET", "/v1/keys", [c](const Request& r) { return list_keys(*c, r); });
  router.add("POST", "/v1/keys/rotate", [c](const Request& r) { return rotate(*c, r); });
  router.add("POST", "/v1/keys/{kid}/revoke", [c](const Request& r) { return revoke(*c, r); });
}

}  // namespace signet::http
