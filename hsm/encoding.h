// The few DER and byte encodings the PKCS#11 key attributes use: curve identifiers for
// CKA_EC_PARAMS, the OCTET STRING around CKA_EC_POINT and the width of an ECDSA signature.
// (The hex of a key id is base/hex.h.)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace signet::hsm {

// CKA_EC_PARAMS for P-256: the DER OID prime256v1 (1.2.840.10045.3.1.7).
std::string_view p256_params();
// CKA_EC_PARAMS for Ed25519, in the two forms PKCS#11 3.0 allows: the DER OID id-Ed25519
// (1.3.101.112, RFC 8410) and the DER PrintableString "edwards25519".
std::string_view ed25519_params_oid();
std::string_view ed25519_params_name();

// The public point inside CKA_EC_POINT. v2.40 says it is a DER OCTET STRING; some modules store
// the bare point, so a value already `point_size` long is taken as it is.
Result<std::string> unwrap_ec_point(std::string_view attribute, std::size_t point_size);

// A CKM_ECDSA answer for P-256 as exactly 64 bytes r||s. Modules give each half as long as the
// group order; one that drops leading zero bytes gives two equal shorter halves, which are
// left-padded. An odd or longer answer cannot be placed and is refused (kInternal).
Result<std::string> ecdsa_p256_fixed_width(std::string_view raw);

// Unsigned big-endian bytes without leading zero bytes (at least one byte is kept).
std::string strip_leading_zeros(std::string_view bytes);

}  // namespace signet::hsm
