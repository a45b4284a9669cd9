#include "config/config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace signet::config {
namespace {

using Json = nlohmann::ordered_json;

Json valid_config() {
  return Json::parse(R"({
    "issuer": "https://signet.test",
    "listen": {"address": "127.0.0.1", "port": 9443},
    "tls": {"cert_file": "tls/server.crt", "key_file": "/abs/server.key"},
    "hsm": {"module": "/usr/lib/softhsm/libsofthsm2.so", "token_label": "signet", "pin_file": "hsm.pin"},
    "keys": {"algorithm": "RS256", "rsa_bits": 3072},
    "jwks": {"max_age": "10m"},
    "verify": {"leeway": "30s"},
    "profiles": {
      "access": {"ttl": "1h", "audience": "platxa-api", "typ": "at+jwt"},
      "editor": {"ttl": "8h"}
    },
    "clients": [
      {"id": "webapp", "api_key_sha256": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
       "profiles": ["access", "editor"], "audiences": ["platxa-api", "sidecar-*"], "max_ttl": "8h",
       "claims": ["user_id"]},
      {"id": "ops", "api_key_sha256": "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "admin": true}
    ],
    "test_mode": true,
    "limits": {"max_body_bytes": 4096, "max_connections": 64}
  })");
}

Result<Config> parse_json(const Json& j) { return parse(j.dump(), "/etc/signet/signet.json"); }

// The error message for a config with one change, which must fail.
std::string error_for(const std::function<void(Json&)>& change) {
  Json j = valid_config();
  change(j);
  const auto result = parse_json(j);
  if (result.ok()) return "(accepted)";
  EXPECT_EQ(result.error().code, Code::kConfig);
  return result.error().message;
}

TEST(Config, ReadsAValidFile) {
  const auto config = parse_json(valid_config());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->issuer, "https://signet.test");
  EXPECT_EQ(config->listen.port, 9443);
  EXPECT_EQ(config->tls.cert_file, "/etc/signet/tls/server.crt");  // relative to the config's folder
  EXPECT_EQ(config->tls.key_file, "/abs/server.key");
  EXPECT_EQ(config->hsm.pin_file, "/etc/signet/hsm.pin");
  EXPECT_EQ(config->keys.algorithm, "RS256");
  EXPECT_EQ(config->keys.rsa_bits, 3072u);
  EXPECT_EQ(config->jwks_max_age, Seconds(600));
  ASSERT_EQ(config->profiles.size(), 2u);
  EXPECT_EQ(config->profiles[0].name, "access");  // the file's order is kept
  EXPECT_EQ(config->profiles[0].typ, "at+jwt");
  EXPECT_EQ(config->profiles[1].typ, "JWT");
  EXPECT_FALSE(config->profiles[1].audience);
  ASSERT_EQ(config->clients.size(), 2u);
  EXPECT_EQ(config->clients[0].api_key_sha256.size(), 32u);
  EXPECT_EQ(config->clients[0].max_ttl, Seconds(8 * 3600));
  EXPECT_TRUE(config->clients[1].admin);
  EXPECT_TRUE(config->test_mode);
  EXPECT_EQ(config->limits.max_body_bytes, 4096u);
}

TEST(Config, DurationsNeedOneUnit) {
  EXPECT_EQ(parse_duration("90s"), Seconds(90));
  EXPECT_EQ(parse_duration("5m"), Seconds(300));
  EXPECT_EQ(parse_duration("1h"), Seconds(3600));
  EXPECT_EQ(parse_duration("30d"), Seconds(30 * 86400));
  for (const char* bad : {"", "5", "m", "0s", "-5s", "5 m", "5M", "1h30m", "1.5h", "99999999999d"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

TEST(Config, ErrorsNameTheFileTheFieldAndWhy) {
  EXPECT_EQ(error_for([](Json& j) { j["keys"]["algorithm"] = "HS256"; }),
            "/etc/signet/signet.json: keys.algorithm must be one of RS256, PS256, ES256, EdDSA");
  EXPECT_EQ(error_for([](Json& j) { j["jwks"]["max_age"] = "1 hour"; }),
            "/etc/signet/signet.json: jwks.max_age must be a duration such as \"90s\", \"5m\", \"1h\" or \"30d\"");
  EXPECT_EQ(error_for([](Json& j) { j["colour"] = "blue"; }), "/etc/signet/signet.json: colour is not a known setting");
  EXPECT_EQ(error_for([](Json& j) { j["hsm"]["pin"] = "1234"; }),
            "/etc/signet/signet.json: hsm.pin is not a known setting");
  EXPECT_EQ(error_for([](Json& j) { j["clients"][0]["profiles"] = {"nope"}; }),
            "/etc/signet/signet.json: clients[0].profiles names an unknown profile \"nope\"");
  EXPECT_EQ(error_for([](Json& j) { j["listen"]["port"] = 70000; }),
            "/etc/signet/signet.json: listen.port must be a whole number from 1 to 65535");
}

TEST(Config, RefusesInconsistentSettings) {
  const std::vector<std::pair<std::string, std::function<void(Json&)>>> cases = {
      {"issuer", [](Json& j) { j.erase("issuer"); }},
      {"hsm.pin_file", [](Json& j) { j["hsm"]["pin_env"] = "PIN"; }},
      {"hsm.pin_file", [](Json& j) { j["hsm"].erase("pin_file"); }},
      {"keys.rsa_bits", [](Json& j) { j["keys"]["rsa_bits"] = 1024; }},
      {"keys.rsa_bits", [](Json& j) { j["keys"]["rsa_bits"] = 2500; }},
      {"profiles", [](Json& j) { j["profiles"] = Json::object(); }},
      {"profiles.editor.ttl", [](Json& j) { j["profiles"]["editor"].erase("ttl"); }},
      {"clients[1].id", [](Json& j) { j["clients"][1]["id"] = "webapp"; }},
      {"clients[0].api_key_sha256", [](Json& j) { j["clients"][0]["api_key_sha256"] = "abc"; }},
      {"clients[0].claims", [](Json& j) { j["clients"][0]["claims"] = {"exp"}; }},
      {"clients[0].audiences", [](Json& j) { j["clients"][0]["audiences"] = {"a*b"}; }},
      {"clients[1].profiles", [](Json& j) { j["clients"][1]["admin"] = false; }},
      {"tls.key_file", [](Json& j) { j["tls"]["key_uri"] = "pkcs11:token=signet"; }},
      {"tls.key_file", [](Json& j) { j["tls"].erase("key_file"); }},
      {"tls.key_uri", [](Json& j) { j["tls"].erase("key_file"); j["tls"]["key_uri"] = "/etc/key.pem"; }},
      {"clients[1].cert_subject", [](Json& j) { j["clients"][1]["cert_subject"] = "CN=ops"; }},
      {"verify.leeway", [](Json& j) { j["verify"]["leeway"] = "1h"; }},
      {"test_mode", [](Json& j) { j["test_mode"] = "yes"; }},
  };
  for (const auto& [field, change] : cases) {
    const std::string message = error_for(change);
    EXPECT_NE(message.find(": " + field + " "), std::string::npos) << field << " -> " << message;
  }
}

TEST(Config, TheTokenByAnRfc7512Uri) {
  Json j = valid_config();
  j["hsm"].erase("token_label");
  j["hsm"].erase("module");
  j["hsm"]["uri"] = "pkcs11:token=signet;serial=0a1b;slot-id=7?module-path=/usr/lib/softhsm/libsofthsm2.so";
  auto config = parse_json(j);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->hsm.token_label, "signet");
  EXPECT_EQ(config->hsm.token_serial, "0a1b");
  EXPECT_EQ(config->hsm.slot_id, 7u);
  EXPECT_EQ(config->hsm.module, "/usr/lib/softhsm/libsofthsm2.so");

  const std::vector<std::pair<std::string, std::function<void(Json&)>>> refused = {
      {"hsm.token_label", [](Json& j) { j["hsm"]["uri"] = "pkcs11:token=signet"; }},
      {"hsm.token_label", [](Json& j) { j["hsm"].erase("token_label"); }},
      {"hsm.uri", [](Json& j) { j["hsm"].erase("token_label"); j["hsm"]["uri"] = "pkcs11:token=signet?pin-value=1234"; }},
      {"hsm.uri", [](Json& j) { j["hsm"].erase("token_label"); j["hsm"]["uri"] = "pkcs11:model=SoftHSM"; }},
      {"hsm.uri", [](Json& j) { j["hsm"].erase("token_label"); j["hsm"]["uri"] = "token=signet"; }},
      {"hsm.module", [](Json& j) { j["hsm"].erase("token_label"); j["hsm"]["uri"] = "pkcs11:token=s?module-path=/m.so"; }},
      {"hsm.module", [](Json& j) { j["hsm"].erase("module"); }},
  };
  for (const auto& [field, change] : refused) {
    const std::string message = error_for(change);
    EXPECT_NE(message.find(": " + field + " "), std::string::npos) << field << " -> " << message;
  }
  EXPECT_NE(error_for(refused[2].second).find("PIN"), std::string::npos);
}

TEST(Config, SigningQueueLimits) {
  const auto defaults = parse_json(valid_config());
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->limits.max_signing_queue, 64u);
  EXPECT_EQ(defaults->limits.max_signing_wait_ms, 250u);
  EXPECT_EQ(defaults->limits.max_signing_concurrency, 0u);  // from the HSM's sessions

  Json j = valid_config();
  j["limits"]["max_signing_queue"] = 0;  // no queue: refuse at once when the HSM is busy
  j["limits"]["max_signing_wait_ms"] = 50;
  j["limits"]["max_signing_concurrency"] = 4;
  const auto set = parse_json(j);
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->limits.max_signing_queue, 0u);
  EXPECT_EQ(set->limits.max_signing_wait_ms, 50u);
  EXPECT_EQ(set->limits.max_signing_concurrency, 4u);

  EXPECT_EQ(error_for([](Json& c) { c["limits"]["max_signing_wait_ms"] = 0; }),
            "/etc/signet/signet.json: limits.max_signing_wait_ms must be a whole number from 1 to 10000");
  EXPECT_EQ(error_for([](Json& c) { c["limits"]["max_signing_wait_ms"] = "250ms"; }),
            "/etc/signet/signet.json: limits.max_signing_wait_ms must be a whole number from 1 to 10000");
  EXPECT_EQ(error_for([](Json& c) { c["limits"]["max_signing_queue"] = -1; }),
            "/etc/signet/signet.json: limits.max_signing_queue must be a whole number from 0 to 65536");
  EXPECT_EQ(error_for([](Json& c) { c["limits"]["max_signing_concurrency"] = 2000; }),
            "/etc/signet/signet.json: limits.max_signing_concurrency must be a whole number from 0 to 1024");
}

TEST(Config, ZeroIsADurationOnlyWhereItMeansNone) {
  EXPECT_FALSE(parse_duration("0s"));
  EXPECT_EQ(parse_duration("0s", Zero::kAllowed), Seconds(0));
  EXPECT_EQ(parse_duration("0d", Zero::kAllowed), Seconds(0));
  EXPECT_EQ(parse_duration("90s", Zero::kAllowed), Seconds(90));
  for (const char* bad : {"", "s", "-0s", "-1s", "+1s", "0.5s", "1.0s", ".5m", " 0s", "0s ", "0 s", "0", "0x1s",
                          "9999999999s", "1000000000d", "1e3s"}) {
    EXPECT_FALSE(parse_duration(bad, Zero::kAllowed)) << bad;
  }

  // No leeway for a strict relying party, no pre-publication beyond jwks.max_age, no grace,
  // no caching of the JWKS.
  Json j = valid_config();
  j["verify"]["leeway"] = "0s";
  j["keys"]["prepublish"] = "0s";
  j["keys"]["retire_grace"] = "0m";
  j["jwks"]["max_age"] = "0s";
  const auto zeros = parse_json(j);
  ASSERT_TRUE(zeros.ok()) << zeros.error().message;
  EXPECT_EQ(zeros->verify_leeway, Seconds(0));
  EXPECT_EQ(zeros->keys.prepublish, Seconds(0));
  EXPECT_EQ(zeros->keys.retire_grace, Seconds(0));
  EXPECT_EQ(zeros->jwks_max_age, Seconds(0));
}

TEST(Config, ZeroIsRefusedWhereItIsNoSetting) {
  const std::vector<std::pair<std::string, std::function<void(Json&)>>> cases = {
      {"keys.rotate_every", [](Json& j) { j["keys"]["rotate_every"] = "0s"; }},
      {"keys.refresh_interval", [](Json& j) { j["keys"]["refresh_interval"] = "0s"; }},
      {"profiles.access.ttl", [](Json& j) { j["profiles"]["access"]["ttl"] = "0h"; }},
      {"clients[0].max_ttl", [](Json& j) { j["clients"][0]["max_ttl"] = "0s"; }},
      {"limits.request_timeout", [](Json& j) { j["limits"]["request_timeout"] = "0s"; }},
      {"limits.idle_timeout", [](Json& j) { j["limits"]["idle_timeout"] = "0s"; }},
      {"limits.max_auth_backoff", [](Json& j) { j["limits"]["max_auth_backoff"] = "0s"; }},
  };
  for (const auto& [field, change] : cases) {
    EXPECT_EQ(error_for(change), "/etc/signet/signet.json: " + field + " must be longer than 0s") << field;
  }
}

TEST(Config, BadDurationsStayErrorsThatNameTheField) {
  for (const char* field : {"leeway"}) {
    for (const char* bad : {"-1s", "", "1.5s", "99999999999s", "1h30m", "5"}) {
      EXPECT_EQ(error_for([&](Json& j) { j["verify"][field] = bad; }),
                std::string("/etc/signet/signet.json: verify.") + field +
                    " must be a duration such as \"90s\", \"5m\", \"1h\" or \"30d\"")
          << bad;
    }
  }
  for (const char* field : {"prepublish", "retire_grace", "rotate_every"}) {
    for (const char* bad : {"-1s", "", "0.5h", "9999999999d"}) {
      const std::string message = error_for([&](Json& j) { j["keys"][field] = bad; });
      EXPECT_EQ(message.rfind(std::string("/etc/signet/signet.json: keys.") + field + " must be a duration", 0), 0u)
          << field << " " << bad << " -> " << message;
    }
  }
  EXPECT_EQ(error_for([](Json& j) { j["jwks"]["max_age"] = 0; }),
            "/etc/signet/signet.json: jwks.max_age must be a duration such as \"90s\", \"5m\", \"1h\" or \"30d\"");
}

TEST(Config, ConnectionAndAuthenticationLimits) {
  Json defaults_json = valid_config();
  defaults_json["limits"].erase("max_connections");
  const auto defaults = parse_json(defaults_json);
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->limits.max_connections_per_address, 64u);
  EXPECT_EQ(defaults->limits.request_timeout, Seconds(10));
  EXPECT_EQ(defaults->limits.idle_timeout, Seconds(30));
  EXPECT_EQ(defaults->limits.auth_failures_per_address, 10u);
  EXPECT_EQ(defaults->limits.max_auth_backoff, Seconds(900));
  // A smaller max_connections halves the default: one address never holds them all.
  const auto small = parse_json(valid_config());
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->limits.max_connections_per_address, 32u);

  Json j = valid_config();
  j["limits"]["max_connections_per_address"] = 0;  // behind a load balancer
  j["limits"]["request_timeout"] = "5s";
  j["limits"]["idle_timeout"] = "2m";
  j["limits"]["auth_failures_per_address"] = 0;
  j["limits"]["max_auth_backoff"] = "1h";
  const auto set = parse_json(j);
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->limits.max_connections_per_address, 0u);
  EXPECT_EQ(set->limits.request_timeout, Seconds(5));
  EXPECT_EQ(set->limits.idle_timeout, Seconds(120));
  EXPECT_EQ(set->limits.auth_failures_per_address, 0u);
  EXPECT_EQ(set->limits.max_auth_backoff, Seconds(3600));

  EXPECT_EQ(error_for([](Json& c) { c["limits"]["max_connections_per_address"] = 64; }),
            "/etc/signet/signet.json: limits.max_connections_per_address must be less than limits.max_connections "
            "(one address must not hold them all), or 0");
  EXPECT_EQ(error_for([](Json& c) { c["limits"]["request_timeout"] = "10m"; }),
            "/etc/signet/signet.json: limits.request_timeout must be at most 300s");
  EXPECT_EQ(error_for([](Json& c) { c["audit"] = {{"file", "a.log"}, {"name", "Replica 1"}}; }),
            "/etc/signet/signet.json: audit.name must be at most 64 characters of a-z, 0-9, '-', '_' and '.'");
}

TEST(Config, AuditAnchorInterval) {
  Json j = valid_config();
  j["audit"] = {{"file", "audit.log"}};
  const auto every_commit = parse_json(j);
  ASSERT_TRUE(every_commit.ok()) << every_commit.error().message;
  EXPECT_EQ(every_commit->audit_anchor_interval, Seconds(0));
  j["audit"]["anchor_interval"] = "1s";
  const auto every_second = parse_json(j);
  ASSERT_TRUE(every_second.ok()) << every_second.error().message;
  EXPECT_EQ(every_second->audit_anchor_interval, Seconds(1));
  EXPECT_EQ(error_for([](Json& c) { c["audit"] = {{"file", "a.log"}, {"anchor_interval", "soon"}}; }),
            "/etc/signet/signet.json: audit.anchor_interval must be a duration such as \"90s\", \"5m\", \"1h\" or \"30d\"");
}

TEST(Config, RefusesDuplicateMembersAndBadJson) {
  auto dup = parse(R"({"issuer":"a","issuer":"b"})", "c.json");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message, "c.json: duplicate member name in a JSON object");
  auto broken = parse("{\"issuer\": ", "c.json");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().message.rfind("c.json: malformed JSON", 0), 0u);
}

TEST(Config, MissingFileIsAConfigError) {
  const auto result = load("/nonexistent/signet.json");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Code::kConfig);
  EXPECT_EQ(result.error().message, "/nonexistent/signet.json: cannot be read");
}

// The names settings_needing_restart gives for a config changed by `change` (empty: a reload
// can apply it).
std::vector<std::string> restart_for(const std::function<void(Json&)>& change,
                                     const std::function<void(Json&)>& start = [](Json&) {}) {
  Json base = valid_config();
  start(base);
  const auto running = parse_json(base);
  Json j = base;
  change(j);
  const auto next = parse_json(j);
  EXPECT_TRUE(running.ok() && next.ok());
  return settings_needing_restart(*running, *next);
}

TEST(Config, AReloadAppliesClientsRatesAndTlsFiles) {
  EXPECT_TRUE(restart_for([](Json&) {}).empty());
  EXPECT_TRUE(restart_for([](Json& j) {
                j["clients"].erase(1);
                j["clients"][0]["audiences"].push_back("more");
                j["limits"]["requests_per_second_per_client"] = 5;
                j["tls"] = {{"cert_file", "new.crt"}, {"key_uri", "pkcs11:token=signet;object=tls"}};
              }).empty());
}

TEST(Config, ReloadNamesWhatOnlyARestartChanges) {
  using Names = std::vector<std::string>;
  EXPECT_EQ(restart_for([](Json& j) { j["profiles"]["access"]["ttl"] = "2h"; }), Names{"profiles"});
  EXPECT_EQ(restart_for([](Json& j) { j["listen"]["port"] = 9444; }), Names{"listen"});
  EXPECT_EQ(restart_for([](Json& j) { j["tls"]["client_ca_file"] = "ca.crt"; }),
            Names{"tls.client_ca_file (mTLS on or off)"});
  const auto with_mtls = [](Json& j) { j["tls"]["client_ca_file"] = "ca.crt"; };
  EXPECT_EQ(restart_for([](Json& j) { j["tls"].erase("client_ca_file"); }, with_mtls),
            Names{"tls.client_ca_file (mTLS on or off)"});
  EXPECT_TRUE(restart_for([](Json& j) { j["tls"]["client_ca_file"] = "other-ca.crt"; }, with_mtls).empty());
  EXPECT_EQ(restart_for([](Json& j) {
              j["keys"]["rsa_bits"] = 4096;
              j["limits"]["max_connections"] = 65;
              j["audit"] = {{"file", "audit.log"}};
            }),
            (Names{"keys", "limits (other than requests_per_second_per_client)", "audit"}));
}

}  // namespace
}  // namespace signet::config
