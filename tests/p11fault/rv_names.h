// CKR_ return codes by name, both ways: the control file names the code a fault answers
// (`fail C_Sign CKR_DEVICE_ERROR`) and the trace file names the code each call answered.
// Every code of the PKCS#11 2.40 header is known; others read and print as hex (0x...).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include <p11-kit/pkcs11.h>

namespace signet::p11fault {

// "CKR_DEVICE_ERROR" for CKR_DEVICE_ERROR; an empty view for a code without a name.
std::string_view rv_name(CK_RV rv);

// Writes rv's name, or "0x%lx" for a code without one, into out (NUL-terminated, cut to fit);
// answers the length written. Needs no allocation: it runs on every traced call.
std::size_t format_rv(CK_RV rv, char* out, std::size_t size);

// A CKR_ name (exact spelling) or a hex number written 0x...; nothing for anything else.
std::optional<CK_RV> parse_rv(std::string_view text);

}  // namespace signet::p11fault
