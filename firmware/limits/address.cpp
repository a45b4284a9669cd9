#include "firmware/limits/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace signet::limits {

Address Address::from_bytes(std::string_view raw) {
  Address a;
  static constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (raw.size() == 16 && std::memcmp(raw.data(), kMappedPrefix, sizeof kMappedPrefix) == 0) raw.remove_prefix(12);
  if (raw.size() == 4) {
    std::memcpy(a.bytes_.data(), raw.data(), 4);
    a.length_ = 4;
  } else if (raw.size() == 16) {
    std::memcpy(a.bytes_.data(), raw.data(), 8);  // the /64: the rest stays zero
    a.length_ = 8;
  }
  return a;
}

std::string Address::to_string() const {
  char text[INET6_ADDRSTRLEN + 4] = "unknown";
  if (length_ == 4) {
    inet_ntop(AF_INET, bytes_.data(), text, sizeof text);
  } else if (length_ == 8) {
    inet_ntop(AF_INET6, bytes_.data(), text, INET6_ADDRSTRLEN);
    std::strcat(text, "/64");
  }
  return text;
}

}  // namespace signet::limits
