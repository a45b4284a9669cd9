// An in-memory stand-in for the token, for unit tests of the layers above hsm/: keys are
// random public halves (nothing signs for real), data objects a map. Faults are switches.
#pragma once

#include <openssl/rand.h>

#include <functional>
#include <map>
#include <mutex>

#include "hsm/hsm.h"

namespace signet::testing {

class FakeHsm : public hsm::Hsm {
 public:
  using hsm::Hsm::generate_key;
  Result<hsm::KeyInfo> generate_key(hsm::SignScheme scheme, unsigned, std::string_view id) override {
    std::lock_guard lock(mutex_);
    if (fail_generate) return make_error(Code::kHsmUnavailable, "CKR_DEVICE_MEMORY");
    hsm::KeyInfo key;
    key.id = id.empty() ? random_bytes(16) : std::string(id);
    key.scheme = scheme;
    key.ref = {next_handle_++, scheme, key.id, 1};
    key.ec_x = random_bytes(32);
    key.ec_y = random_bytes(32);
    key.ed25519_public = random_bytes(32);
    key.rsa_modulus = "\x80" + random_bytes(255);
    key.rsa_public_exponent = "\x01\x00\x01";
    key.local = key.always_sensitive = key.never_extractable = true;
    keys_[key.id] = key;
    ++generated;
    return key;
  }

  Result<std::vector<hsm::KeyInfo>> list_keys() override {
    std::lock_guard lock(mutex_);
    if (fail_read) return make_error(Code::kHsmUnavailable, "CKR_USER_NOT_LOGGED_IN");
    std::vector<hsm::KeyInfo> out;
    for (const auto& [id, key] : keys_) out.push_back(key);
    return out;
  }

  Status destroy_key(std::string_view id) override {
    std::lock_guard lock(mutex_);
    if (keys_.erase(std::string(id))) ++destroyed;
    return ok_status();
  }

  Result<std::size_t> sign(const hsm::KeyRef&, std::string_view message, unsigned char* out, std::size_t) override {
    if (fail_sign) return make_error(Code::kHsmUnavailable, "CKR_DEVICE_REMOVED");
    last_signed = std::string(message);
    out[0] = 0x5a;
    return std::size_t{1};
  }

  Result<std::string> read_data(std::string_view label) override {
    std::lock_guard lock(mutex_);
    if (fail_read) return make_error(Code::kHsmUnavailable, "CKR_USER_NOT_LOGGED_IN");
    const auto it = data_.find(std::string(label));
    if (it == data_.end()) return make_error(Code::kNotFound, "no data object");
    return it->second;
  }

  Status write_data(std::string_view label, std::string_view value) override {
    std::lock_guard lock(mutex_);
    if (fail_write) return make_error(Code::kHsmUnavailable, "CKR_DEVICE_ERROR");
    data_[std::string(label)] = std::string(value);
    if (on_write) on_write(label);
    return ok_status();
  }

  Result<std::vector<std::string>> read_label_slots(std::string_view name) override {
    std::lock_guard lock(mutex_);
    if (fail_read) return make_error(Code::kHsmUnavailable, "CKR_USER_NOT_LOGGED_IN");
    const auto it = slots_.find(std::string(name));
    return it == slots_.end() ? std::vector<std::string>() : it->second;
  }

  // Two slots, the one not holding keep overwritten (the least first), as the token's are.
  Status write_label_slot(std::string_view name, std::string_view keep, std::string_view value) override {
    std::lock_guard lock(mutex_);
    if (fail_write) return make_error(Code::kHsmUnavailable, "CKR_DEVICE_ERROR");
    if (refuse_labels) return make_error(Code::kPermissionDenied, "C_SetAttributeValue(CKA_LABEL) failed (CKR_ATTRIBUTE_READ_ONLY)");
    auto& slots = slots_[std::string(name)];
    if (slots.size() < 2) {
      slots.emplace_back(value);
      return ok_status();
    }
    std::string* target = nullptr;
    for (auto& slot : slots) {
      if (slot != keep && (!target || slot < *target)) target = &slot;
    }
    *(target ? target : &slots.front()) = std::string(value);
    return ok_status();
  }

  Result<std::vector<std::pair<std::string, std::string>>> list_data(std::string_view prefix) override {
    std::lock_guard lock(mutex_);
    if (fail_read) return make_error(Code::kHsmUnavailable, "CKR_USER_NOT_LOGGED_IN");
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [label, value] : data_) {
      if (label.compare(0, prefix.size(), prefix) == 0) out.emplace_back(label, value);
    }
    return out;
  }

  Status destroy_data(std::string_view label) override {
    std::lock_guard lock(mutex_);
    data_.erase(std::string(label));
    return ok_status();
  }

  Status check_health() override { return fail_sign ? Status(make_error(Code::kHsmUnavailable, "gone")) : ok_status(); }

  // Whether a signature worked since "connecting", as the real Hsm reports it for /readyz.
  hsm::HealthReport health() const override {
    hsm::HealthReport report;
    report.signed_since_recovery = !fail_sign;
    return report;
  }

  // Drops a key pair behind the ring's back, as a token that lost it would.
  void lose_key(const std::string& id) {
    std::lock_guard lock(mutex_);
    keys_.erase(id);
  }

  bool fail_generate = false;
  bool fail_sign = false;
  bool fail_write = false;
  bool fail_read = false;  // every view of the token fails, as with a lost login
  bool refuse_labels = false;  // a token that will not modify a label (write_label_slot)
  std::function<void(std::string_view label)> on_write;  // after each data object write
  int generated = 0;
  int destroyed = 0;
  std::string last_signed;

 private:
  static std::string random_bytes(std::size_t n) {
    std::string s(n, '\0');
    RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n));
    return s;
  }

  std::mutex mutex_;
  std::map<std::string, hsm::KeyInfo> keys_;
  std::map<std::string, std::string> data_;
  std::map<std::string, std::vector<std::string>> slots_;  // write_label_slot's, by name
  std::uint64_t next_handle_ = 1;
};

}  // namespace signet::testing
