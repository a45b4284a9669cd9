// What `--version` prints: the project's version and the git revision the build was configured
// from (cmake/version.cmake), so that an installed binary can be traced back to its source.
#pragma once

#include <string>
#include <string_view>

namespace signet {

std::string_view version();       // e.g. "0.1.0"
std::string_view git_revision();  // e.g. "a2191c9f03de", or "unknown" outside git

// "<program> <version> (git <revision>)", one line.
std::string version_line(std::string_view program);

}  // namespace signet
