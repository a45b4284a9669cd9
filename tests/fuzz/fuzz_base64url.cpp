// libFuzzer harness: strict base64url. Any accepted text must be the one canonical encoding of
// its bytes (decode then encode gives it back), and any bytes must round-trip.
#include "firmware/jose/base64url.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto bytes = signet::jose::base64url_decode(text)) {
    if (signet::jose::base64url_encode(*bytes) != text) __builtin_trap();
  }
  const std::string encoded = signet::jose::base64url_encode(text);
  const auto back = signet::jose::base64url_decode(encoded);
  if (!back || *back != text) __builtin_trap();
  return 0;
}
