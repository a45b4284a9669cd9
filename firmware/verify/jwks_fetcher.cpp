// The fetcher's cache. Readers take a snapshot under a shared lock and never wait for the network
// unless they hold no set at all or need a kid they have not seen; one mutex serialises fetches,
// and a waiting thread re-checks the snapshot after it gets the mutex, so a burst of callers
// behind one fetch causes no second one.
#include "firmware/verify/jwks_fetcher.h"

#include "firmware/verify/https_get.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>
#include <optional>
#include <shared_mutex>

namespace signet::verify {
namespace {

using Clock = std::chrono::steady_clock;

// max-age from a Cache-Control value; `no-cache`/`no-store` mean 0. nullopt when neither appears.
std::optional<std::chrono::seconds> max_age(std::string_view cache_control) {
  std::optional<std::chrono::seconds> found;
  while (!cache_control.empty()) {
    const std::size_t comma = cache_control.find(',');
    std::string_view item = cache_control.substr(0, comma);
    cache_control = comma == std::string_view::npos ? std::string_view{} : cache_control.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    std::string lower(item);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "no-cache" || lower == "no-store") return std::chrono::seconds(0);
    if (lower.starts_with("max-age=")) {
      long long value = 0;
      const char* first = lower.data() + 8;
      const char* last = lower.data() + lower.size();
      const auto [end, ec] = std::from_chars(first, last, value);
      if (ec == std::errc() && end == last && value >= 0) found = std::chrono::seconds(value);
      else if (ec == std::errc::result_out_of_range) found = std::chrono::seconds::max();
    }
  }
  return found;
}

}  // namespace

struct JwksFetcher::State {
  explicit State(JwksFetcherOptions o) : options(std::move(o)) {
    if (!options.clock) options.clock = [] { return Clock::now(); };
  }

  JwksFetcherOptions options;

  // The snapshot readers see.
  mutable std::shared_mutex snapshot_mutex;
  std::shared_ptr<const KeySet> keys;  // null until a first fetch succeeds
  Clock::time_point fresh_until{};
  Clock::time_point no_fetch_before{};  // back-off after a failed fetch

  // Fetch bookkeeping, only touched while holding fetch_mutex.
  std::mutex fetch_mutex;
  std::string etag;
  std::chrono::seconds last_max_age{0};
  std::optional<Clock::time_point> last_attempt;

  std::atomic<std::uint64_t> fetches{0}, not_modified{0}, failures{0};
  std::atomic<std::size_t> skipped_last{0};

  struct View {
    std::shared_ptr<const KeySet> keys;
    bool fresh;
    bool may_fetch;
  };
  View view(Clock::time_point now) const {
    std::shared_lock lock(snapshot_mutex);
    return View{keys, keys && now < fresh_until, now >= no_fetch_before};
  }

  std::chrono::seconds clamp_age(std::optional<std::chrono::seconds> age) const {
    const std::chrono::seconds chosen = age.value_or(options.default_max_age);
    return std::clamp(chosen, options.min_max_age, options.max_max_age);
  }

  // Call with fetch_mutex held.
  bool fetch(Clock::time_point now) {
    last_attempt = now;
    ++fetches;
    internal::HttpsRequest request{options.url, options.ca_file, "", options.timeout,
                                   options.max_body_bytes};
    const bool have_keys = view(now).keys != nullptr;
    if (have_keys) request.if_none_match = etag;
    const internal::HttpsResponse response = internal::https_get(request);

    if (response.status == 304 && have_keys) {
      ++not_modified;
      if (const auto age = max_age(response.cache_control)) last_max_age = clamp_age(age);
      std::unique_lock lock(snapshot_mutex);
      fresh_until = now + last_max_age;
      return true;
    }
    if (response.status == 200) {
      KeySet::Import imported = KeySet::from_jwks_json(response.body);
      // A set with no usable key is treated as a failed fetch: the last good set stays.
      if (imported.ok && imported.keys.size() > 0) {
        skipped_last = imported.skipped;
        etag = response.etag;
        last_max_age = clamp_age(max_age(response.cache_control));
        std::unique_lock lock(snapshot_mutex);
        keys = std::make_shared<const KeySet>(std::move(imported.keys));
        fresh_until = now + last_max_age;
        return true;
      }
    }
    ++failures;
    std::unique_lock lock(snapshot_mutex);
    no_fetch_before = now + options.unknown_kid_cooldown;
    return false;
  }
};

JwksFetcher::JwksFetcher(JwksFetcherOptions options)
    : state_(std::make_unique<State>(std::move(options))) {}
JwksFetcher::~JwksFetcher() = default;

std::shared_ptr<const KeySet> JwksFetcher::keys() {
  static const auto kEmpty = std::make_shared<const KeySet>();
  const Clock::time_point now = state_->options.clock();
  State::View v = state_->view(now);
  if (v.fresh || !v.may_fetch) return v.keys ? v.keys : kEmpty;
  if (v.keys) {
    // Stale but usable: refresh unless another thread already is; never wait for it.
    std::unique_lock fetch_lock(state_->fetch_mutex, std::try_to_lock);
    if (!fetch_lock.owns_lock()) return v.keys;
    v = state_->view(now);
    if (!v.fresh && v.may_fetch) state_->fetch(now);
  } else {
    std::lock_guard fetch_lock(state_->fetch_mutex);
    v = state_->view(now);
    if (!v.keys && v.may_fetch) state_->fetch(now);
  }
  v = state_->view(now);
  return v.keys ? v.keys : kEmpty;
}

std::shared_ptr<const KeySet> JwksFetcher::keys_for(std::string_view kid) {
  std::shared_ptr<const KeySet> current = keys();
  if (current->contains(kid)) return current;
  std::lock_guard fetch_lock(state_->fetch_mutex);
  const Clock::time_point now = state_->options.clock();
  State::View v = state_->view(now);
  if (v.keys && v.keys->contains(kid)) return v.keys;  // another thread's fetch brought it
  const bool cooled_down =
      !state_->last_attempt || now >= *state_->last_attempt + state_->options.unknown_kid_cooldown;
  if (cooled_down && v.may_fetch) state_->fetch(now);
  v = state_->view(now);
  return v.keys ? v.keys : current;
}

bool JwksFetcher::refresh() {
  std::lock_guard fetch_lock(state_->fetch_mutex);
  return state_->fetch(state_->options.clock());
}

JwksFetcher::Stats JwksFetcher::stats() const {
  return Stats{state_->fetches.load(), state_->not_modified.load(), state_->failures.load(),
               state_->skipped_last.load()};
}

VerifyResult verify_with(JwksFetcher& fetcher, std::string_view token, const Expectations& expect) {
  // verify() checks structure and the alg allowlist before the kid, so only a token that could be
  // valid but names a kid we lack (`unknown_kid`) may cause a refresh.
  const std::shared_ptr<const KeySet> keys = fetcher.keys();
  VerifyResult result = verify(*keys, token, expect);
  if (result.reason != Reason::kUnknownKid) return result;
  const std::shared_ptr<const KeySet> refreshed = fetcher.keys_for(result.kid);
  if (refreshed == keys) return result;
  return verify(*refreshed, token, expect);
}

}  // namespace signet::verify
