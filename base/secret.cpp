#include "base/secret.h"

#include <openssl/crypto.h>

namespace signet {

SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this != &other) {
    wipe();
    value_ = std::move(other.value_);
    other.wipe();
  }
  return *this;
}

void SecretString::wipe() {
  // Wipe the whole capacity: a shorter value may have left older bytes behind it.
  value_.resize(value_.capacity());
  OPENSSL_cleanse(value_.data(), value_.size());
  value_.clear();
}

}  // namespace signet
