// A signed token leaves only once the audit ledger holds its line. Without a ledger the answer
// is made at once; with one, the connection waits for the line to be durable without holding a
// worker thread (http::Deferred), and the answer is made then, or replaced by 503
// audit_unavailable if the line could not be written: the token is then dropped unseen.
#pragma once

#include <functional>

#include "firmware/issuance/issuer.h"
#include "http/message.h"

namespace signet::api {

// answer makes the response for the token (and logs its issuance); it runs on a worker thread,
// only once the line is durable.
using TokenAnswer = std::function<http::Response(const issuance::IssuedToken&)>;

http::Response hand_out(const issuance::Issuer& issuer, issuance::IssuedToken token, TokenAnswer answer);

}  // namespace signet::api
