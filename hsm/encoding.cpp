#include "hsm/encoding.h"

namespace signet::hsm {

std::string_view p256_params() {
  static constexpr char kDer[] = "\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07";
  return {kDer, sizeof kDer - 1};
}

std::string_view ed25519_params_oid() {
  static constexpr char kDer[] = "\x06\x03\x2b\x65\x70";
  return {kDer, sizeof kDer - 1};
}

std::string_view ed25519_params_name() {
  static constexpr char kDer[] = "\x13\x0c" "edwards25519";
  return {kDer, sizeof kDer - 1};
}

Result<std::string> unwrap_ec_point(std::string_view attribute, std::size_t point_size) {
  // A bare P-256 point also starts with 0x04 (uncompressed), so the length decides: the DER
  // form is always longer than the point by its tag and length bytes.
  if (attribute.size() == point_size) return std::string(attribute);
  constexpr unsigned char kOctetString = 0x04;
  if (attribute.size() >= 2 && static_cast<unsigned char>(attribute[0]) == kOctetString) {
    std::size_t length = static_cast<unsigned char>(attribute[1]);
    std::size_t header = 2;
    if (length == 0x81 && attribute.size() >= 3) {  // long form, one length byte
      length = static_cast<unsigned char>(attribute[2]);
      header = 3;
    }
    if (length == point_size && attribute.size() == header + length) {
      return std::string(attribute.substr(header));
    }
  }
  return make_error(Code::kInternal, "CKA_EC_POINT has an unexpected encoding (" +
                                         std::to_string(attribute.size()) + " bytes)");
}

Result<std::string> ecdsa_p256_fixed_width(std::string_view raw) {
  constexpr std::size_t kHalf = 32;
  if (raw.empty() || raw.size() > 2 * kHalf || raw.size() % 2 != 0) {
    return make_error(Code::kInternal, "the token answered a " + std::to_string(raw.size()) +
                                           "-byte ECDSA signature; a P-256 one has 64");
  }
  std::size_t half = raw.size() / 2;
  std::string fixed(2 * kHalf, '\0');
  fixed.replace(kHalf - half, half, raw.substr(0, half));
  fixed.replace(2 * kHalf - half, half, raw.substr(half));
  return fixed;
}

std::string strip_leading_zeros(std::string_view bytes) {
  std::size_t first = 0;
  while (first + 1 < bytes.size() && bytes[first] == '\0') ++first;
  return std::string(bytes.substr(first));
}

}  // namespace signet::hsm
