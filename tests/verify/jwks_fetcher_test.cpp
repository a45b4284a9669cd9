// The JWKS fetcher against a real local HTTPS server (tls_server.h) with an injected clock:
// cache hits within max-age, ETag revalidation (304), refresh on an unknown kid, the cooldown
// under a flood of made-up kids, the last good set kept on failure, malformed entries skipped,
// and concurrent lookups from 8 threads. Tokens are signed with software keys made in the test.
#include "firmware/verify/jwks_fetcher.h"
#include "tests/verify/software_key.h"
#include "tests/verify/tls_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace signet::verify {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::TlsJwksServer;

struct FakeClock {
  std::chrono::steady_clock::time_point base = std::chrono::steady_clock::now();
  std::atomic<std::int64_t> ms{0};
  void advance(std::chrono::milliseconds d) { ms += d.count(); }
  std::function<std::chrono::steady_clock::time_point()> fn() {
    return [this] { return base + std::chrono::milliseconds(ms.load()); };
  }
};

std::string jwks_of(std::initializer_list<const testing::SoftwareKey*> keys, json extra = json::array()) {
  json doc = {{"keys", json::array()}};
  for (const auto* key : keys) doc["keys"].push_back(key->public_jwk());
  for (auto& e : extra) doc["keys"].push_back(e);
  return doc.dump();
}

std::string token_for(const testing::SoftwareKey& key, const std::string& kid) {
  return key.token(json{{"alg", key.alg()}, {"kid", kid}, {"typ", "signet+jwt"}}.dump(), testing::good_claims());
}

class FetcherTest : public ::testing::Test {
 protected:
  JwksFetcherOptions options() {
    JwksFetcherOptions o;
    o.url = server.url();
    o.ca_file = server.ca_file();
    o.clock = clock.fn();
    o.timeout = 5000ms;
    return o;
  }
  void serve(std::string body, std::string cache_control = "max-age=300", std::string etag = "", int status = 200) {
    server.set_answer({status, std::move(body), std::move(etag), std::move(cache_control)});
  }
  TlsJwksServer server;
  FakeClock clock;
};

TEST_F(FetcherTest, CacheHitWithinMaxAge) {
  serve(jwks_of({&testing::es256_key()}), "public, max-age=60");
  JwksFetcher fetcher(options());
  EXPECT_TRUE(fetcher.keys()->contains("es-1"));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(fetcher.keys()->contains("es-1"));
  clock.advance(59s);
  EXPECT_TRUE(verify_with(fetcher, token_for(testing::es256_key(), "es-1"), testing::expectations()).valid);
  EXPECT_EQ(fetcher.fetch_count(), 1u);
  EXPECT_EQ(server.requests(), 1);
  clock.advance(2s);
  fetcher.keys();
  EXPECT_EQ(fetcher.fetch_count(), 2u);
}

TEST_F(FetcherTest, EtagRevalidationKeepsTheSetAndRenewsFreshness) {
  serve(jwks_of({&testing::es256_key()}), "max-age=60", "\"v1\"");
  JwksFetcher fetcher(options());
  const auto first = fetcher.keys();
  clock.advance(61s);
  const auto second = fetcher.keys();
  EXPECT_EQ(first, second);  // the same immutable set
  EXPECT_EQ(server.conditional_requests(), 1);
  EXPECT_EQ(server.not_modified_sent(), 1);
  EXPECT_EQ(fetcher.stats().not_modified, 1u);
  clock.advance(30s);
  fetcher.keys();
  EXPECT_EQ(fetcher.fetch_count(), 2u);  // freshness renewed by the 304
  // A new ETag: the next revalidation gets the new body.
  serve(jwks_of({&testing::es256_key(), &testing::eddsa_key()}), "max-age=60", "\"v2\"");
  clock.advance(31s);
  EXPECT_TRUE(fetcher.keys()->contains("ed-1"));
  EXPECT_EQ(fetcher.fetch_count(), 3u);
}

TEST_F(FetcherTest, NoCacheIsClampedToTheMinimum) {
  serve(jwks_of({&testing::es256_key()}), "no-cache");
  JwksFetcher fetcher(options());
  fetcher.keys();
  clock.advance(9s);
  fetcher.keys();
  EXPECT_EQ(fetcher.fetch_count(), 1u);
  clock.advance(2s);
  fetcher.keys();
  EXPECT_EQ(fetcher.fetch_count(), 2u);
}

TEST_F(FetcherTest, RefreshOnUnknownKid) {
  serve(jwks_of({&testing::es256_key()}));
  JwksFetcher fetcher(options());
  fetcher.keys();
  serve(jwks_of({&testing::es256_key(), &testing::eddsa_key()}));  // rotation: a new key appears
  // Within the cooldown of the last fetch the unknown kid waits...
  EXPECT_EQ(verify_with(fetcher, token_for(testing::eddsa_key(), "ed-1"), testing::expectations()).reason,
            Reason::kUnknownKid);
  EXPECT_EQ(fetcher.fetch_count(), 1u);
  // ...and after it one refresh finds it, although the set was still fresh.
  clock.advance(31s);
  EXPECT_TRUE(verify_with(fetcher, token_for(testing::eddsa_key(), "ed-1"), testing::expectations()).valid);
  EXPECT_EQ(fetcher.fetch_count(), 2u);
}

TEST_F(FetcherTest, FloodOfUnknownKidsCostsOneFetchPerCooldown) {
  serve(jwks_of({&testing::es256_key()}));
  JwksFetcherOptions o = options();
  o.unknown_kid_cooldown = 30s;
  JwksFetcher fetcher(o);
  fetcher.keys();
  clock.advance(31s);
  for (int i = 0; i < 1000; ++i) {
    const std::string kid = "made-up-" + std::to_string(i);
    EXPECT_EQ(verify_with(fetcher, token_for(testing::es256_key(), kid), testing::expectations()).reason,
              Reason::kUnknownKid);
  }
  EXPECT_EQ(fetcher.fetch_count(), 2u);  // the first fetch, and one for the whole burst
  // The same flood spread over 100 s (100 ms apart): at most one fetch per started cooldown.
  for (int i = 0; i < 1000; ++i) {
    clock.advance(100ms);
    fetcher.keys_for("spread-" + std::to_string(i));
  }
  const std::uint64_t spread_fetches = fetcher.fetch_count() - 2;
  std::printf("[fetcher] 1000 unknown kids in one instant: 1 fetch; 1000 over 100 s: %llu fetches (cooldown 30 s)\n",
              static_cast<unsigned long long>(spread_fetches));
  EXPECT_LE(spread_fetches, 4u);
  EXPECT_EQ(server.requests(), static_cast<int>(fetcher.fetch_count()));
}

TEST_F(FetcherTest, TokensRefusedForOtherReasonsCauseNoFetch) {
  serve(jwks_of({&testing::es256_key()}));
  JwksFetcher fetcher(options());
  fetcher.keys();
  clock.advance(31s);
  const std::string none = testing::b64(R"({"alg":"none","kid":"fresh-kid"})") + "." + testing::b64("{}") + ".";
  EXPECT_EQ(verify_with(fetcher, none, testing::expectations()).reason, Reason::kAlgNotAllowed);
  EXPECT_EQ(verify_with(fetcher, "a.b", testing::expectations()).reason, Reason::kMalformed);
  EXPECT_EQ(verify_with(fetcher, "eyJ9.e30.", testing::expectations()).reason, Reason::kMalformed);
  EXPECT_EQ(fetcher.fetch_count(), 1u);
}

TEST_F(FetcherTest, FailureKeepsTheLastGoodSet) {
  serve(jwks_of({&testing::es256_key()}), "max-age=60");
  JwksFetcher fetcher(options());
  fetcher.keys();
  const std::string token = token_for(testing::es256_key(), "es-1");
  struct Bad { int status; std::string body; };
  for (const Bad& bad : {Bad{500, "oops"}, Bad{200, "not json"}, Bad{200, R"({"keys":[]})"},
                         Bad{200, R"({"keys":[{"kty":"oct","kid":"x","k":"AAAA"}]})"}, Bad{404, ""}}) {
    serve(bad.body, "max-age=60", "", bad.status);
    clock.advance(61s);
    EXPECT_TRUE(verify_with(fetcher, token, testing::expectations()).valid) << bad.status << " " << bad.body;
    EXPECT_TRUE(fetcher.keys()->contains("es-1"));
  }
  EXPECT_EQ(fetcher.stats().failures, 5u);
  // After a failure, no new attempt within the cooldown (a dead server is not hammered).
  const std::uint64_t before = fetcher.fetch_count();
  clock.advance(5s);
  fetcher.keys();
  fetcher.keys_for("nope");
  EXPECT_EQ(fetcher.fetch_count(), before);
  // The server goes away entirely.
  server.stop();
  clock.advance(61s);
  EXPECT_TRUE(verify_with(fetcher, token, testing::expectations()).valid);
  EXPECT_EQ(fetcher.stats().failures, 6u);
}

TEST_F(FetcherTest, MalformedEntriesSkippedOneByOne) {
  const json junk = json::array({5, json{{"kty", "RSA"}, {"kid", "weak"}}, json{{"kty", "oct"}, {"kid", "h"}, {"k", "AA"}}});
  serve(jwks_of({&testing::es256_key(), &testing::eddsa_key()}, junk));
  JwksFetcher fetcher(options());
  EXPECT_EQ(fetcher.keys()->size(), 2u);
  EXPECT_EQ(fetcher.stats().skipped_last, 3u);
}

TEST_F(FetcherTest, RefusesAnUntrustedCertificateAndPlainHttp) {
  serve(jwks_of({&testing::es256_key()}));
  JwksFetcherOptions system_store = options();
  system_store.ca_file.clear();  // the self-signed test certificate is not in the system store
  JwksFetcher untrusted(system_store);
  EXPECT_EQ(untrusted.keys()->size(), 0u);
  EXPECT_EQ(untrusted.stats().failures, 1u);
  JwksFetcherOptions http = options();
  http.url = "http://localhost:" + server.url().substr(server.url().rfind(':') + 1);
  JwksFetcher plain(http);
  EXPECT_EQ(plain.keys()->size(), 0u);
  EXPECT_EQ(plain.stats().failures, 1u);
}

TEST_F(FetcherTest, ConcurrentLookupsFromEightThreads) {
  serve(jwks_of({&testing::es256_key(), &testing::eddsa_key()}));
  JwksFetcher fetcher(options());
  const std::string good = token_for(testing::es256_key(), "es-1");
  auto run = [&](int rounds, std::atomic<int>& valid) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < rounds; ++i) {
          valid += verify_with(fetcher, good, testing::expectations()).valid;
          fetcher.keys_for("unknown-" + std::to_string(t) + "-" + std::to_string(i));
        }
      });
    }
    for (auto& th : threads) th.join();
  };
  std::atomic<int> valid{0};
  run(200, valid);  // all threads start with no set: exactly one of them fetches
  EXPECT_EQ(valid.load(), 1600);
  EXPECT_EQ(fetcher.fetch_count(), 1u);
  clock.advance(31s);
  run(100, valid);  // a burst of unknown kids after the cooldown: one more fetch in all
  EXPECT_EQ(valid.load(), 2400);
  EXPECT_EQ(fetcher.fetch_count(), 2u);
  EXPECT_EQ(server.requests(), 2);
}

}  // namespace
}  // namespace signet::verify
