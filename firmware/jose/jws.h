// JWS compact serialization (RFC 7515 §7.1) for signing: header, payload and signature
// assembly. The signature itself comes from elsewhere (the HSM); nothing here holds a key.
#pragma once

#include <string>
#include <string_view>

#include "firmware/jose/jwk.h"

namespace signet::jose {

// base64url of the protected header {"alg","kid","typ"}, members in that order.
std::string encode_header(Alg alg, std::string_view kid, std::string_view typ);

// Starts a token in out: "<header_b64>.<payload_b64>", the JWS signing input.
void begin_compact(std::string_view header_b64, std::string_view payload_json, std::string& out);

// Completes it: appends "." and the base64url signature.
void finish_compact(std::string_view signature, std::string& out);

}  // namespace signet::jose
