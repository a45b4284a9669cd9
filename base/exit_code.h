// The exit codes of docs/API.md, shared by signetd and signetctl: 0 ok, 2 usage or invalid
// config, 3 HSM unavailable (module, token, PIN), 4 TLS material unusable, 1 anything else.
// The unit file's RestartPreventExitStatus= relies on 2 and 3 meaning "a restart cannot help".
#pragma once

#include "base/result.h"

namespace signet {

inline constexpr int kExitUsage = 2;

inline int exit_code(Code code) {
  switch (code) {
    case Code::kConfig:
    case Code::kInvalidArgument:
      return kExitUsage;
    case Code::kHsmModule:
    case Code::kHsmTokenNotFound:
    case Code::kHsmPin:
    case Code::kHsmUnavailable:
      return 3;
    case Code::kTls:
      return 4;
    default:
      return 1;
  }
}

}  // namespace signet
