// The whole HTTP API in one process, for tests: the route table of firmware/api over a key ring
// on the fake HSM, with a config of three clients. A request goes in as method, path, headers,
// query and body; the router's answer comes out. No daemon, no socket, no TLS.
#pragma once

#include <openssl/sha.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <nlohmann/json.hpp>
#include <string>

#include "base/hex.h"
#include "config/config.h"
#include "firmware/api/routes.h"
#include "tests/unit/fake_hsm.h"
#include "tests/unit/manual_clock.h"

namespace signet::testing {

// The API keys of the fixture's clients.
inline const std::string kWebappKey = "webapp-key-0123456789";    // profiles access and editor
inline const std::string kServiceKey = "service-key-0123456789";  // profile service
inline const std::string kOpsKey = "ops-key-0123456789";          // admin, and no profile

// A request as a client sends it; what the router hands to handlers is a view of this.
struct TestRequest {
  std::string method = "GET";
  std::string path = "/";
  std::string body;
  std::map<std::string, std::string> headers;
  std::map<std::string, std::string> query;
  std::string peer_address = std::string("\x0a\x00\x00\x01", 4);  // 10.0.0.1

  TestRequest& bearer(const std::string& key) {
    headers["Authorization"] = "Bearer " + key;
    return *this;
  }
  TestRequest& json(const nlohmann::json& value) {
    headers["Content-Type"] = "application/json";
    body = value.dump();
    return *this;
  }
};

struct ApiOptions {
  std::string limits = "{}";  // the config's "limits" member
  bool test_mode = false;
  audit::Ledger* ledger = nullptr;
  issuance::SigningGate::Options gate{};
};

class Api {
 public:
  explicit Api(ApiOptions options = {}, std::unique_ptr<FakeHsm> fake = std::make_unique<FakeHsm>())
      : hsm_(std::move(fake)), config_(make_config(options)), clock_(now()), ring_(*hsm_, ring_options(), clock_),
        rotation_(ring_, policy()),
        started_(rotation_.start(std::chrono::seconds(5))),
        issuer_(config_.issuer, ring_, *hsm_, options.ledger, &now, options.gate),
        clients_(std::make_shared<const auth::ClientTable>(config_.clients, config_.limits.requests_per_second_per_client)),
        context_{config_, ring_, rotation_, *hsm_, issuer_, clients_, api::render_discovery(config_)},
        router_(api::make_router(context_)) {}

  http::Response call(const TestRequest& request) const {
    const http::Request view(request.method, request.path, request.body, &lookup, &request);
    http::Response response = router_->dispatch(view);
    // A token waiting for its ledger line: this thread waits, as the server's parked connection would.
    if (response.deferred) return router_->await(response);
    return response;
  }

  bool started() const { return started_.ok(); }
  FakeHsm& hsm() { return *hsm_; }
  ring::KeyRing& ring() { return ring_; }

  // The wall clock of the issuer: tokens must be valid now for /v1/verify.
  static std::int64_t now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

 private:
  static std::string sha256_hex(const std::string& text) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
    return hex::encode(digest, sizeof digest);
  }

  static config::Config make_config(const ApiOptions& options) {
    nlohmann::json j = nlohmann::json::parse(R"({
      "issuer": "https://signet.test",
      "tls": {"cert_file": "server.crt", "key_file": "server.key"},
      "hsm": {"module": "/nonexistent.so", "token_label": "signet", "pin_file": "hsm.pin"},
      "profiles": {"access": {"ttl": "1h", "audience": "api", "typ": "at+jwt"}, "editor": {"ttl": "8h"},
                   "service": {"ttl": "5m"}},
      "clients": [
        {"id": "webapp", "profiles": ["access", "editor"], "claims": ["user_id"]},
        {"id": "service", "profiles": ["service"]},
        {"id": "ops", "admin": true}
      ]
    })");
    j["clients"][0]["api_key_sha256"] = sha256_hex(kWebappKey);
    j["clients"][1]["api_key_sha256"] = sha256_hex(kServiceKey);
    j["clients"][2]["api_key_sha256"] = sha256_hex(kOpsKey);
    j["limits"] = nlohmann::json::parse(options.limits);
    j["test_mode"] = options.test_mode;
    auto config = config::parse(j.dump(), "/etc/signet/signet.json");
    if (!config.ok()) throw std::runtime_error(config.error().message);
    return std::move(*config);
  }

  static ring::LifecyclePolicy policy() {
    ring::LifecyclePolicy policy;
    policy.refresh_interval = 1;
    return policy;
  }

  ring::RingOptions ring_options() const {
    ring::RingOptions options;
    options.replica = "test";
    for (const auto& profile : config_.profiles) options.typs.push_back(profile.typ);
    return options;
  }

  static std::optional<std::string_view> lookup(const void* context, http::Request::Part part, std::string_view name) {
    const auto& request = *static_cast<const TestRequest*>(context);
    const auto find = [&](const std::map<std::string, std::string>& values) -> std::optional<std::string_view> {
      const auto it = values.find(std::string(name));
      if (it == values.end()) return std::nullopt;
      return it->second;
    };
    switch (part) {
      case http::Request::Part::kHeader: return find(request.headers);
      case http::Request::Part::kQuery: return find(request.query);
      case http::Request::Part::kPeerSubject: return std::nullopt;
      case http::Request::Part::kPeerAddress: return request.peer_address;
    }
    return std::nullopt;
  }

  std::unique_ptr<FakeHsm> hsm_;
  config::Config config_;
  ManualClock clock_;  // the ring's: the lease settles at once
  ring::KeyRing ring_;
  ring::RotationJob rotation_;
  Status started_;
  issuance::Issuer issuer_;
  auth::ClientDirectory clients_;
  api::ApiContext context_;
  std::unique_ptr<http::Router> router_;
};

// A header of the answer, or "(absent)".
inline std::string header(const http::Response& response, const std::string& name) {
  for (const auto& [n, v] : response.headers) {
    if (n == name) return v;
  }
  return "(absent)";
}

// The "error" member of a JSON error body.
inline std::string error_code(const http::Response& response) {
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  return body.is_object() && body.contains("error") ? body["error"].get<std::string>() : "(none)";
}

}  // namespace signet::testing
