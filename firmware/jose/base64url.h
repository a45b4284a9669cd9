// Base64url without padding (RFC 7515 §2, RFC 4648 §5), strict: the decoder accepts only the
// alphabet [A-Za-z0-9_-], no padding, no whitespace, and zero unused trailing bits, so every
// byte string has exactly one accepted encoding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace signet::jose {

std::string base64url_encode(std::string_view bytes);
// Appends the encoding to out: the signing path builds tokens without temporary strings.
void base64url_encode_to(std::string_view bytes, std::string& out);
std::size_t base64url_encoded_size(std::size_t byte_count);

// std::nullopt when the input is not the canonical encoding of some bytes.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace signet::jose
