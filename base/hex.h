// Hex, the one codec for the whole tree: key ids in labels, digests, API keys, correlation ids.
// Encoding is lowercase; decoding is strict and refuses anything that is not whole bytes of
// hex digits, so a bad id never becomes some other id.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace signet::hex {

// Two lowercase digits per byte.
std::string encode(std::string_view bytes);
std::string encode(const unsigned char* bytes, std::size_t size);

// The bytes of an even number of hex digits (either case); nullopt for an odd length or any
// other character. The empty string decodes to no bytes.
std::optional<std::string> decode(std::string_view digits);

// The value of one hex digit (either case), or -1.
int digit_value(char c);

// Whether text is nothing but lowercase hex digits (what encode() writes), of any length.
bool is_lowercase(std::string_view text);

}  // namespace signet::hex
