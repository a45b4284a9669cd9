// SecretString: a byte string that wipes itself when it dies, for the HSM PIN and API keys.
// It cannot be copied (a copy would outlive the wipe of the original) and prints nowhere.
#pragma once

#include <string>
#include <string_view>

namespace signet {

class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }
  SecretString& operator=(SecretString&& other) noexcept;
  ~SecretString() { wipe(); }

  std::string_view view() const { return value_; }
  bool empty() const { return value_.empty(); }
  // Overwrites the bytes (the compiler may not elide it) and empties the string.
  void wipe();

 private:
  std::string value_;
};

}  // namespace signet
