// A small blocking HTTPS client for signetctl (libcurl): TLS 1.2 or newer, peer verified
// against the system store or a given CA file, answers bounded in size.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace signet::ctl {

struct HttpAnswer {
  long status = 0;
  std::string body;
};

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::string ca_file;  // empty: the system's trust store
  std::vector<std::string> headers;
  std::string body;
};

Result<HttpAnswer> perform(const HttpCall& call);

}  // namespace signet::ctl
