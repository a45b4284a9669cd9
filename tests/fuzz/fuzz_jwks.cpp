// libFuzzer harness: the JWKS parser and key import. Whatever the input, import never crashes,
// and every accepted key is bound to one of the four allowed algorithms.
#include "firmware/verify/verifier.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto imported = signet::verify::KeySet::from_jwks_json(text);
  if (!imported.ok && imported.keys.size() != 0) __builtin_trap();
  for (const std::string& kid : imported.keys.kids()) {
    const std::string_view alg = imported.keys.alg_of(kid);
    if (alg != "RS256" && alg != "PS256" && alg != "ES256" && alg != "EdDSA") __builtin_trap();
  }
  return 0;
}
