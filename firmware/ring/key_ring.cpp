#include "firmware/ring/key_ring.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>

#include "base/log.h"
#include "firmware/jose/base64url.h"
#include "firmware/jose/jws.h"

namespace signet::ring {
namespace {

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

hsm::SignScheme scheme_for(jose::Alg alg) {
  switch (alg) {
    case jose::Alg::kRS256: return hsm::SignScheme::kRsaPkcs1Sha256;
    case jose::Alg::kPS256: return hsm::SignScheme::kRsaPssSha256;
    case jose::Alg::kES256: return hsm::SignScheme::kEcdsaP256Sha256;
    case jose::Alg::kEdDSA: return hsm::SignScheme::kEd25519;
  }
  return hsm::SignScheme::kEcdsaP256Sha256;
}

jose::Alg alg_for(hsm::SignScheme scheme) {
  switch (scheme) {
    case hsm::SignScheme::kRsaPkcs1Sha256: return jose::Alg::kRS256;
    case hsm::SignScheme::kRsaPssSha256: return jose::Alg::kPS256;
    case hsm::SignScheme::kEcdsaP256Sha256: return jose::Alg::kES256;
    case hsm::SignScheme::kEd25519: return jose::Alg::kEdDSA;
  }
  return jose::Alg::kES256;
}

// The ring's view of a token key pair: its JWK and kid come from the public half alone.
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
  key.entry.id_hex = to_hex(info.id);
  key.entry.kid = jose::thumbprint(pub);
  key.entry.alg = std::string(jose::alg_name(pub.alg));
  key.jwk_json = jose::public_jwk_json(pub, key.entry.kid);
  key.local = info.local;
  key.always_sensitive = info.always_sensitive;
  key.never_extractable = info.never_extractable;
  return key;
}

Result<RingRecord> read_record(hsm::Hsm& hsm) {
  auto text = hsm.read_data(kRecordLabel);
  if (!text.ok()) {
    if (text.error().code == Code::kNotFound) return RingRecord{};
    return text.error();
  }
  return decode_record(*text);
}

// A start that finds no active key takes a key pair of the configured algorithm that the token
// holds but the record does not name (what a crash between generating a key and writing the
// record leaves behind) before it generates one: no orphan pair piles up in the token.
Result<RingKey> adopt_or_generate(hsm::Hsm& hsm, const std::map<std::string, RingKey>& in_token,
                                  const std::vector<RingKey>& published, const RingOptions& options) {
  for (const auto& [id, key] : in_token) {
    const bool recorded = std::any_of(published.begin(), published.end(),
                                      [&](const RingKey& k) { return k.entry.id_hex == id; });
    if (!recorded && key.alg == options.algorithm) {
      log::info("key_adopted", {{"kid", key.entry.kid}, {"alg", key.entry.alg}});
      return key;
    }
  }
  auto generated = hsm.generate_key(scheme_for(options.algorithm), options.rsa_bits);
  if (!generated.ok()) return generated.error();
  RingKey key = describe(*generated);
  log::info("key_generated", {{"kid", key.entry.kid}, {"alg", key.entry.alg}});
  return key;
}

}  // namespace

const std::string* Snapshot::header_for(std::string_view typ) const {
  for (const auto& [t, header] : active_headers) {
    if (t == typ) return &header;
  }
  return nullptr;
}

std::shared_ptr<const Snapshot> render_snapshot(std::vector<RingKey> keys, const std::vector<std::string>& typs) {
  auto snap = std::make_shared<Snapshot>();
  snap->keys = std::move(keys);
  for (std::size_t i = 0; i < snap->keys.size(); ++i) {
    if (snap->keys[i].entry.state == KeyState::kActive) snap->active_index = i;
  }
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
  const RingKey& active = snap->active();
  for (const auto& typ : typs) {
    snap->active_headers.emplace_back(typ, jose::encode_header(active.alg, active.entry.kid, typ));
  }
  return snap;
}

Result<std::unique_ptr<KeyRing>> KeyRing::open(hsm::Hsm& hsm, RingOptions options, std::int64_t now) {
  auto listed = hsm.list_keys();
  if (!listed.ok()) return listed.error();
  std::map<std::string, RingKey> in_token;
  for (const auto& info : *listed) {
    RingKey key = describe(info);
    in_token.emplace(key.entry.id_hex, std::move(key));
  }
  auto record = read_record(hsm);
  if (!record.ok()) return record.error();

  // Keep the record's keys that the token still holds; a key the token lacks is never published.
  std::vector<RingKey> published;
  for (const auto& entry : record->keys) {
    auto it = in_token.find(entry.id_hex);
    if (it == in_token.end() || it->second.entry.kid != entry.kid) {
      log::warn("ring_key_missing", {{"kid", entry.kid}, {"detail", "in the ring record but not in the token"}});
      continue;
    }
    RingKey key = it->second;
    key.entry = entry;
    published.push_back(std::move(key));
  }
  const auto active = std::find_if(published.begin(), published.end(),
                                   [](const RingKey& k) { return k.entry.state == KeyState::kActive; });
  bool changed = published.size() != record->keys.size();
  if (active == published.end()) {
    auto key = adopt_or_generate(hsm, in_token, published, options);
    if (!key.ok()) return key.error();
    key->entry.state = KeyState::kActive;
    key->entry.created_at = now;
    key->entry.activated_at = now;
    log::info("key_activated", {{"kid", key->entry.kid}, {"alg", key->entry.alg}});
    published.push_back(std::move(*key));
    changed = true;
  } else if (active->alg != options.algorithm) {
    return make_error(Code::kConfig, "keys.algorithm is " + std::string(jose::alg_name(options.algorithm)) +
                                         " but the token's active key " + active->entry.kid + " is " +
                                         active->entry.alg);
  }
  if (changed) {
    RingRecord updated;
    updated.serial = record->serial + 1;
    for (const auto& k : published) updated.keys.push_back(k.entry);
    if (auto written = hsm.write_data(kRecordLabel, encode_record(updated)); !written.ok()) return written.error();
  }
  return std::unique_ptr<KeyRing>(new KeyRing(render_snapshot(std::move(published), options.typs)));
}

}  // namespace signet::ring
