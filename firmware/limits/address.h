// A client's network address as the limits key it: IPv4 whole, IPv6 by its /64 prefix (one
// host is usually given a whole /64, so counting its addresses one by one would count
// nothing), an IPv4-mapped IPv6 address as the IPv4 address it is. Fixed size, no allocation.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace signet::limits {

class Address {
 public:
  Address() = default;
  // From the raw bytes of a sockaddr's address: 4 (IPv4) or 16 (IPv6); anything else is the
  // unspecified address (all such requests share one key).
  static Address from_bytes(std::string_view raw);

  // The bytes that key the limits: 4 for IPv4, the first 8 for IPv6.
  std::string_view key() const { return {reinterpret_cast<const char*>(bytes_.data()), length_}; }
  // For logs: "192.0.2.7", or "2001:db8:1:2::/64" for an IPv6 prefix.
  std::string to_string() const;

 private:
  std::array<std::uint8_t, 16> bytes_{};
  std::size_t length_ = 0;
};

}  // namespace signet::limits
