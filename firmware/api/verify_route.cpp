// POST /v1/verify: introspection (RFC 7662 style) for authenticated clients, with the same
// verifier library relying parties link, over the ring's published keys.
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strict_json.h"
#include "firmware/api/handlers.h"

namespace signet::api {
namespace {

constexpr int kMaxBodyDepth = 4;

Result<verify::Expectations> expectations(const ApiContext& context, const nlohmann::ordered_json& body) {
  verify::Expectations expect;
  expect.issuer = context.config.issuer;
  expect.leeway_seconds = context.config.verify_leeway.count();
  for (const auto& [name, value] : body.items()) {
    if (name == "token") continue;
    if ((name != "audience" && name != "profile") || !value.is_string()) {
      return make_error(Code::kInvalidArgument, "the body holds token and, optionally, audience and profile (strings)");
    }
    if (name == "audience") expect.audience = value.get<std::string>();
    if (name == "profile") {
      const config::Profile* profile = context.config.find_profile(value.get<std::string>());
      if (!profile) return make_error(Code::kInvalidArgument, "unknown profile \"" + value.get<std::string>() + "\"");
      expect.profile = profile->name;
      expect.typ = profile->typ;  // a token of another profile's type is refused (RFC 8725 §3.11)
    }
  }
  return expect;
}

}  // namespace

http::Response introspect(const Call& call) {
  if (!http::is_media_type(call.request.header("Content-Type"), http::kJsonMediaType)) {
    return http::error_response(415, "unsupported_media_type", "the body must be application/json");
  }
  JsonError error;
  const auto body = parse_strict_json(call.request.body, kMaxBodyDepth, &error);
  if (!body) return http::error_response(make_error(Code::kInvalidArgument, error.message));
  if (!body->is_object() || !body->contains("token") || !(*body)["token"].is_string()) {
    return http::error_response(make_error(Code::kInvalidArgument, "\"token\" (a string) is required"));
  }
  auto expect = expectations(call.context, *body);
  if (!expect.ok()) return http::error_response(expect.error());

  const auto snapshot = call.context.ring.snapshot();
  const auto result = verify::verify(snapshot->verifier_keys, (*body)["token"].get<std::string>(), *expect);
  nlohmann::ordered_json answer;
  answer["active"] = result.valid;
  if (result.valid) {
    answer["kid"] = result.kid;
    answer["claims"] = result.claims;
  } else {
    answer["error"] = verify::to_string(result.reason);
    log::info("token_inactive", {{"client", call.caller->id}, {"reason", verify::to_string(result.reason)}});
  }
  http::Response r = http::json_response(200, answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace signet::api
