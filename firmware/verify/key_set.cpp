// KeySet: a JWKS imported entry by entry under the relying-party policy into an immutable map
// from kid to key. A malformed entry costs only itself; a kid that appears twice names no key.
#include "firmware/verify/key.h"
#include "firmware/verify/strict_json.h"
#include "firmware/verify/verifier.h"

#include <unordered_map>

namespace signet::verify {
namespace {

using json = nlohmann::json;

// Bounds the work one JWKS document can cause (each RSA import runs a public-key check).
constexpr std::size_t kMaxKeys = 100;
constexpr std::size_t kMaxJwksBytes = 1024 * 1024;

std::string entry_label(std::size_t index, const json& jwk) {
  std::string label = "keys[" + std::to_string(index) + "]";
  if (jwk.is_object()) {
    const auto kid = jwk.find("kid");
    if (kid != jwk.end() && kid->is_string() && kid->get_ref<const std::string&>().size() <= 128) {
      label += " (kid " + kid->get<std::string>() + ")";
    }
  }
  return label;
}

}  // namespace

KeySet::KeySet() : keys_(std::make_shared<const Map>()) {}
KeySet::KeySet(std::shared_ptr<const Map> keys) : keys_(std::move(keys)) {}

std::size_t KeySet::size() const { return keys_->size(); }
bool KeySet::contains(std::string_view kid) const { return keys_->find(kid) != keys_->end(); }

std::vector<std::string> KeySet::kids() const {
  std::vector<std::string> out;
  for (const auto& [kid, key] : *keys_) out.push_back(kid);
  return out;
}

std::string_view KeySet::alg_of(std::string_view kid) const {
  const internal::PublicKey* key = find(kid);
  return key == nullptr ? std::string_view{} : internal::scheme_name(key->scheme);
}

const internal::PublicKey* KeySet::find(std::string_view kid) const {
  const auto it = keys_->find(kid);
  return it == keys_->end() ? nullptr : it->second.get();
}

KeySet::Import KeySet::from_jwk_objects(std::span<const json> jwk_objects) {
  Import out;
  out.ok = true;
  std::unordered_map<std::string, std::size_t> kid_count;
  for (const json& jwk : jwk_objects) {
    if (!jwk.is_object()) continue;
    const auto kid = jwk.find("kid");
    if (kid != jwk.end() && kid->is_string()) ++kid_count[kid->get<std::string>()];
  }
  auto map = std::make_shared<Map>();
  for (std::size_t i = 0; i < jwk_objects.size(); ++i) {
    const json& jwk = jwk_objects[i];
    auto skip = [&](const std::string& why) {
      ++out.skipped;
      out.skipped_why.push_back(entry_label(i, jwk) + ": " + why);
    };
    if (i >= kMaxKeys) {
      skip("more than " + std::to_string(kMaxKeys) + " keys");
      continue;
    }
    internal::JwkImport imported = internal::import_public_jwk(jwk, internal::relying_party_policy());
    if (!imported.key) {
      skip(imported.problem);
      continue;
    }
    if (kid_count[imported.key->kid] > 1) {
      skip("kid appears more than once in the set");
      continue;
    }
    std::string kid = imported.key->kid;
    map->emplace(std::move(kid), std::make_shared<const internal::PublicKey>(std::move(*imported.key)));
  }
  out.keys = KeySet(std::move(map));
  return out;
}

KeySet::Import KeySet::from_jwks(const json& jwks) {
  if (jwks.is_array()) {
    return from_jwk_objects(std::span<const json>(jwks.get_ref<const json::array_t&>()));
  }
  if (jwks.is_object()) {
    const auto keys = jwks.find("keys");
    if (keys != jwks.end() && keys->is_array()) {
      return from_jwk_objects(std::span<const json>(keys->get_ref<const json::array_t&>()));
    }
  }
  Import out;
  out.error = "not a JWKS: expected an object with a \"keys\" array";
  return out;
}

KeySet::Import KeySet::from_jwks_json(std::string_view jwks_text) {
  if (jwks_text.size() > kMaxJwksBytes) {
    Import out;
    out.error = "JWKS document larger than 1 MiB";
    return out;
  }
  const std::optional<json> doc = internal::parse_strict_json(jwks_text);
  if (!doc) {
    Import out;
    out.error = "JWKS is not strict JSON (syntax, depth, duplicate names or UTF-8)";
    return out;
  }
  if (!doc->is_object()) {
    Import out;
    out.error = "not a JWKS: expected an object with a \"keys\" array";
    return out;
  }
  return from_jwks(*doc);
}

}  // namespace signet::verify
