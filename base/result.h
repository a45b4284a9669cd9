// Result<T>: a value or an Error, returned across Signet's layers instead of exceptions.
// Each Error carries a Code that the HTTP layer maps to a status and main() maps to an exit
// code, each in exactly one place; the message is one human sentence that never holds a secret.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace signet {

enum class Code {
  kInvalidArgument,   // bad input from a client or operator
  kUnauthenticated,   // no or wrong credentials
  kPermissionDenied,  // authenticated, but the policy says no
  kNotFound,          // no such thing
  kConfig,            // the configuration is unusable
  kHsmUnavailable,    // the HSM cannot serve right now (device error, token gone); retryable
  kHsmModule,         // the PKCS#11 module cannot be loaded
  kHsmTokenNotFound,  // no token with the configured label
  kHsmPin,            // wrong, locked or expired PIN; never retried
  kTls,               // TLS material unusable
  kRateLimited,       // the client asks faster than its limit
  kAuditUnavailable,  // the audit ledger cannot be written: nothing is issued without a record
  kOverloaded,        // more signing requests than the HSM keeps up with: refused early; retryable
  kInternal,          // a bug or an unexpected failure
};

struct Error {
  Code code;
  std::string message;
  long retry_after_seconds = 0;  // for kRateLimited and kOverloaded: when to come back
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like std::expected
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

inline Error make_error(Code code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace signet
