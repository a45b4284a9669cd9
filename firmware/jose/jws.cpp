#include "firmware/jose/jws.h"

#include <nlohmann/json.hpp>

#include "firmware/jose/base64url.h"

namespace signet::jose {

std::string encode_header(Alg alg, std::string_view kid, std::string_view typ) {
  nlohmann::ordered_json header;
  header["alg"] = alg_name(alg);
  header["kid"] = kid;
  header["typ"] = typ;
  return base64url_encode(header.dump());
}

void begin_compact(std::string_view header_b64, std::string_view payload_json, std::string& out) {
  out.clear();
  // One allocation for the whole token: header, payload, and an RSA-4096 signature at most.
  out.reserve(header_b64.size() + base64url_encoded_size(payload_json.size()) + 2 +
              base64url_encoded_size(512));
  out.append(header_b64);
  out.push_back('.');
  base64url_encode_to(payload_json, out);
}

void finish_compact(std::string_view signature, std::string& out) {
  out.push_back('.');
  base64url_encode_to(signature, out);
}

}  // namespace signet::jose
