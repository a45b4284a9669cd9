#include "firmware/ring/key_ring.h"

#include <openssl/sha.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "base/hex.h"
#include "base/log.h"
#include "firmware/jose/base64url.h"
#include "firmware/jose/jws.h"

namespace signet::ring {
namespace {

jose::Alg alg_for(hsm::SignScheme scheme) {
  switch (scheme) {
    case hsm::SignScheme::kRsaPkcs1Sha256: return jose::Alg::kRS256;
    case hsm::SignScheme::kRsaPssSha256: return jose::Alg::kPS256;
    case hsm::SignScheme::kEcdsaP256Sha256: return jose::Alg::kES256;
    case hsm::SignScheme::kEd25519: return jose::Alg::kEdDSA;
  }
  return jose::Alg::kES256;
}

}  // namespace


hsm::SignScheme scheme_for(jose::Alg alg) {
  switch (alg) {
    case jose::Alg::kRS256: return hsm::SignScheme::kRsaPkcs1Sha256;
    case jose::Alg::kPS256: return hsm::SignScheme::kRsaPssSha256;
    case jose::Alg::kES256: return hsm::SignScheme::kEcdsaP256Sha256;
    case jose::Alg::kEdDSA: return hsm::SignScheme::kEd25519;
  }
  return hsm::SignScheme::kEcdsaP256Sha256;
}

RingKey describe(const hsm::KeyInfo& info) {
  jose::PublicKey pub;
  pub.alg = alg_for(info.scheme);
  pub.rsa_n = info.rsa_modulus;
  pub.rsa_e = info.rsa_public_exponent;
  pub.ec_x = info.ec_x;
  pub.ec_y = info.ec_y;
  pub.okp_x = info.ed25519_public;
  RingKey key;
  key.alg = pub.alg;
  key.ref = info.ref;
  key.entry.id_hex = hex::encode(info.id);
  key.entry.kid = jose::thumbprint(pub);
  key.entry.alg = std::string(jose::alg_name(pub.alg));
  key.jwk_json = jose::public_jwk_json(pub, key.entry.kid);
  key.local = info.local;
  key.always_sensitive = info.always_sensitive;
  key.never_extractable = info.never_extractable;
  key.mechanism_bound = info.mechanism_bound;
  return key;
}

std::optional<RingKey> describe_from_record(const RecordEntry& entry) {
  const auto alg = jose::parse_alg(entry.alg);
  if (entry.jwk.empty() || !alg) return std::nullopt;
  // Only a JWK that the verifier reads back under the recorded kid is published.
  const auto parsed = verify::KeySet::from_jwks_json("{\"keys\":[" + entry.jwk + "]}");
  if (parsed.keys.size() != 1 || !parsed.keys.contains(entry.kid)) return std::nullopt;
  RingKey key;
  key.entry = entry;
  key.alg = *alg;
  key.jwk_json = entry.jwk;
  return key;
}

const RingKey* Snapshot::active() const {
  for (const auto& k : keys) {
    if (k.entry.state == KeyState::kActive) return &k;
  }
  return nullptr;
}

const RingKey* Snapshot::newest_retiring() const {
  const RingKey* newest = nullptr;
  for (const auto& k : keys) {
    if (k.entry.state == KeyState::kRetiring && (!newest || k.entry.retired_at > newest->entry.retired_at)) newest = &k;
  }
  return newest;
}

const RingKey* Snapshot::find(std::string_view kid) const {
  for (const auto& k : keys) {
    if (k.entry.kid == kid) return &k;
  }
  return nullptr;
}

const std::string* Snapshot::header_for(std::string_view typ) const {
  for (const auto& [t, header] : active_headers) {
    if (t == typ) return &header;
  }
  return nullptr;
}

std::shared_ptr<const Snapshot> render_snapshot(std::uint64_t serial, std::vector<RingKey> keys,
                                                const std::vector<std::string>& typs) {
  auto snap = std::make_shared<Snapshot>();
  snap->loaded = true;
  snap->serial = serial;
  snap->keys = std::move(keys);
  std::string body = "{\"keys\":[";
  for (std::size_t i = 0; i < snap->keys.size(); ++i) {
    if (i) body.push_back(',');
    body += snap->keys[i].jwk_json;
  }
  body += "]}";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  // The same bytes give the same ETag on every replica: it depends on nothing but the body.
  snap->etag = "\"" + jose::base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), 18)) + "\"";
  snap->jwks_body = std::move(body);
  // Verified with the same library relying parties use, from the bytes they would fetch.
  snap->verifier_keys = verify::KeySet::from_jwks_json(snap->jwks_body).keys;
  if (const RingKey* active = snap->active()) {
    for (const auto& typ : typs) {
      snap->active_headers.emplace_back(typ, jose::encode_header(active->alg, active->entry.kid, typ));
    }
  }
  return snap;
}

KeyRing::KeyRing(hsm::Hsm& hsm, RingOptions options, Clock& clock)
    : hsm_(hsm), options_(std::move(options)), clock_(clock), current_(std::make_shared<const Snapshot>()) {
  usage_.replica = options_.replica;
}

std::string KeyRing::usage_label() const { return std::string(kUsageLabelPrefix) + options_.replica; }

Result<KeyRing::RecordRead> KeyRing::read_record() {
  RecordRead read;
  auto text = hsm_.read_data(kRecordLabel);
  if (!text.ok()) {
    // Absent in a logged-in view (hsm.h): a fresh token, or a record someone deleted.
    if (text.error().code == Code::kNotFound) return read;
    return text.error();
  }
  read.found = true;
  auto record = decode_record(*text);
  if (record.ok()) {
    read.record = std::move(*record);
    return read;
  }
  if (record.error().code != Code::kInternal) return record.error();
  read.damaged = true;
  read.why = record.error().message;
  read.raw = std::move(*text);
  return read;
}

Status KeyRing::write_record(RingRecord& record) {
  record.serial = std::max(record.serial, snapshot()->serial) + 1;
  return hsm_.write_data(kRecordLabel, encode_record(record));
}

Result<std::vector<UsageRecord>> KeyRing::read_usage() {
  auto objects = hsm_.list_data(kUsageLabelPrefix);
  if (!objects.ok()) return objects.error();
  std::vector<UsageRecord> records;
  for (const auto& [label, value] : *objects) {
    auto usage = decode_usage(value);
    if (!usage.ok()) return usage.error();  // never guess what a damaged record reserved
    records.push_back(std::move(*usage));
  }
  return records;
}

Result<std::vector<hsm::KeyInfo>> KeyRing::token_keys() { return hsm_.list_keys(); }

std::shared_ptr<KeyCounters> KeyRing::counters_for(const std::string& kid) {
  auto& counters = counters_[kid];
  if (!counters) counters = std::make_shared<KeyCounters>();
  return counters;
}

std::int64_t KeyRing::staleness_ms() const {
  const std::int64_t read_at = read_at_ms_.load(std::memory_order_relaxed);
  return read_at == 0 ? std::numeric_limits<std::int64_t>::max() / 2 : clock_.steady_ms() - read_at;
}

Result<KeyRing::RecordRead> KeyRing::refresh() {
  const std::int64_t started = clock_.steady_ms();
  auto read = read_record();
  if (!read.ok()) return read.error();
  // What the token said at `started` is shown once this returns: the published set is that old.
  if (!read->damaged) read_at_ms_.store(started, std::memory_order_relaxed);
  if (read->damaged) return read;  // what is published stays; the lease holder adopts the keys
  std::lock_guard lock(refresh_mutex_);
  const auto shown = snapshot();
  // A record that vanished after one was shown: the keys did not (the lease holder adopts them).
  if (!read->found && shown->loaded && !shown->keys.empty()) return read;
  if (!shown->loaded || read->record.serial != shown->serial || read->record.serial == 0 ||
      hsm_.health().generation != token_keys_generation_) {
    if (auto published = publish_locked(read->record); !published.ok()) return published.error();
  }
  return read;
}

Status KeyRing::publish(const RingRecord& record) {
  const std::int64_t written = clock_.steady_ms();  // the record this process has just written
  std::lock_guard lock(refresh_mutex_);
  Status shown = publish_locked(record);
  if (shown.ok()) read_at_ms_.store(written, std::memory_order_relaxed);
  return shown;
}

Status KeyRing::publish_locked(const RingRecord& record) {
  // Handles come from a listing made in the current login; a new login numbers objects anew.
  const std::uint64_t generation = hsm_.health().generation;
  const bool known = generation == token_keys_generation_ &&
                     std::all_of(record.keys.begin(), record.keys.end(),
                                 [&](const RecordEntry& e) { return token_keys_.count(e.id_hex) != 0; });
  if (!known) {
    auto listed = hsm_.list_keys();
    if (listed.ok()) {
      token_keys_.clear();
      for (auto& info : *listed) token_keys_.emplace(hex::encode(info.id), std::move(info));
      token_keys_generation_ = generation;
    } else {
      // Not seen is not gone: publish from the record, sign with the handles we had (the HSM
      // layer finds a key again by its id when a handle went stale).
      log::warn("ring_keys_unreadable", {{"detail", listed.error().message}});
    }
  }
  std::vector<RingKey> keys;
  for (const auto& entry : record.keys) {
    std::optional<RingKey> key;
    if (const auto it = token_keys_.find(entry.id_hex); it != token_keys_.end()) {
      key = describe(it->second);
      key->in_token = true;
      if (key->entry.kid != entry.kid) {
        log::warn("ring_key_mismatch", {{"kid", entry.kid}, {"detail", "the token's key has another thumbprint"}});
        key.reset();
      }
    }
    if (!key) {
      // The record alone keeps it published, so that the tokens it signed still verify; the
      // lease holder retires it (it can no longer sign).
      key = describe_from_record(entry);
      if (!key) {
        log::warn("ring_key_missing", {{"kid", entry.kid}, {"detail", "in the ring record but not in the token"}});
        continue;
      }
    }
    key->entry = entry;
    key->counters = counters_for(entry.kid);
    keys.push_back(std::move(*key));
  }
  const auto shown = snapshot();
  if (shown->serial != record.serial || shown->keys.size() != keys.size()) {
    log::info("ring_changed", {{"serial", std::to_string(record.serial)}, {"keys", std::to_string(keys.size())}});
  }
  current_.store(render_snapshot(record.serial, std::move(keys), options_.typs), std::memory_order_release);
  return ok_status();
}

// A replica keeps its id across restarts (main.cpp), so its usage record may already hold
// reservations from before: they are carried on, never overwritten by an empty record.
Status KeyRing::load_own_usage_locked() {
  if (usage_loaded_) return ok_status();
  auto text = hsm_.read_data(usage_label());
  if (text.ok()) {
    auto earlier = decode_usage(*text);
    if (!earlier.ok()) return earlier.error();
    usage_.serial = earlier->serial;
    usage_.keys = std::move(earlier->keys);
  } else if (text.error().code != Code::kNotFound) {
    return text.error();
  }
  usage_loaded_ = true;
  return ok_status();
}

Status KeyRing::reserve(const RingKey& key, std::int64_t exp, std::int64_t ttl) {
  KeyCounters& c = *key.counters;
  const std::uint64_t count = c.signed_count.fetch_add(1, std::memory_order_relaxed) + 1;
  if (exp <= c.reserved_exp.load(std::memory_order_acquire) && count <= c.reserved_count.load(std::memory_order_acquire)) {
    return ok_status();
  }
  std::lock_guard lock(usage_mutex_);
  if (Status loaded = load_own_usage_locked(); !loaded.ok()) return loaded;
  KeyUsage& usage = usage_.keys[key.entry.kid];
  if (exp <= usage.latest_exp && count <= usage.tokens) return ok_status();  // another thread reserved it
  UsageRecord updated = usage_;
  // Only published keys need their reservations kept: the record stays small however many
  // keys this replica has signed with over its life.
  const auto shown = snapshot();
  std::erase_if(updated.keys, [&](const auto& k) { return k.first != key.entry.kid && !shown->find(k.first); });
  KeyUsage& reserved = updated.keys[key.entry.kid];
  reserved.latest_exp = std::max(reserved.latest_exp, exp + std::clamp<std::int64_t>(ttl / 4, 1, 300));
  reserved.tokens = std::max(reserved.tokens, count + options_.reserve_tokens);
  ++updated.serial;
  if (auto written = hsm_.write_data(usage_label(), encode_usage(updated)); !written.ok()) return written;
  usage_ = std::move(updated);
  c.reserved_exp.store(usage_.keys[key.entry.kid].latest_exp, std::memory_order_release);
  c.reserved_count.store(usage_.keys[key.entry.kid].tokens, std::memory_order_release);
  if (on_reservation_) on_reservation_();
  return ok_status();
}

}  // namespace signet::ring
