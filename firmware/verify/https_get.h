// Internal: one HTTPS GET with libcurl for the JWKS fetcher: https only, no redirects, verified
// peer and host, a body cap, a whole-request timeout, and the two cache headers it needs.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace signet::verify::internal {

struct HttpsRequest {
  std::string url;
  std::string ca_file;        // empty: the system store
  std::string if_none_match;  // an ETag to revalidate; empty: unconditional
  std::chrono::milliseconds timeout{5000};
  std::size_t max_body_bytes = 1024 * 1024;
};

struct HttpsResponse {
  long status = 0;  // 0 when no HTTP answer arrived
  std::string body;
  std::string etag;
  std::string cache_control;
  std::string error;  // transport error, if any
};

HttpsResponse https_get(const HttpsRequest& request);

}  // namespace signet::verify::internal
