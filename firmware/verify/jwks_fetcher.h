// A JWKS fetcher for relying parties: HTTPS GET (libcurl) of a configured URL, never of anything a
// token names; a cache that honours Cache-Control max-age (clamped) and ETag revalidation; one
// refresh on an unknown kid per cooldown, so a flood of made-up kids costs one fetch; the last
// good set kept when a fetch fails; malformed entries skipped one by one. Safe to share between
// threads: readers take an immutable snapshot, and at most one fetch is in flight.
#pragma once

#include "firmware/verify/verifier.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace signet::verify {

struct JwksFetcherOptions {
  std::string url;      // https:// only
  std::string ca_file;  // PEM file of CAs to trust; empty: the system store
  std::chrono::seconds unknown_kid_cooldown{30};  // also the back-off after a failed fetch
  std::chrono::seconds default_max_age{300};      // when the answer carries no max-age
  std::chrono::seconds min_max_age{10};  // so `no-cache` or max-age=0 cannot cause a fetch per call
  std::chrono::seconds max_max_age{24 * 3600};
  std::chrono::milliseconds timeout{5000};  // whole request
  std::size_t max_body_bytes = 1024 * 1024;
  // Injectable clock for tests; empty: std::chrono::steady_clock::now.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

class JwksFetcher {
 public:
  explicit JwksFetcher(JwksFetcherOptions options);
  ~JwksFetcher();
  JwksFetcher(const JwksFetcher&) = delete;  // owns the cache and the in-flight fetch
  JwksFetcher& operator=(const JwksFetcher&) = delete;

  // The current set, fetched first when none is held or it is no longer fresh. Never null: an
  // empty set when nothing could be fetched yet.
  std::shared_ptr<const KeySet> keys();
  // As keys(); when `kid` is not in the set, refreshes once unless any fetch happened within the
  // cooldown. The key lookup for verify_with().
  std::shared_ptr<const KeySet> keys_for(std::string_view kid);
  // Fetches now, ignoring freshness and cooldown. True when the fetch succeeded (200 or 304).
  bool refresh();

  struct Stats {
    std::uint64_t fetches = 0;       // HTTP requests made
    std::uint64_t not_modified = 0;  // 304 answers
    std::uint64_t failures = 0;      // transport errors, non-200/304 statuses, unusable bodies
    std::size_t skipped_last = 0;    // entries skipped in the last accepted JWKS
  };
  Stats stats() const;
  std::uint64_t fetch_count() const { return stats().fetches; }

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// verify() with the key set of a fetcher; a token refused only for its unknown kid triggers
// keys_for() (one refresh per cooldown) and is checked again against the refreshed set.
VerifyResult verify_with(JwksFetcher& fetcher, std::string_view token, const Expectations& expect);

}  // namespace signet::verify
