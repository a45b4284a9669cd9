#include "firmware/api/handed_out.h"

#include <memory>
#include <utility>

#include "base/catch_all.h"

namespace signet::api {
namespace {

class WhenRecorded final : public http::Deferred {
 public:
  WhenRecorded(const issuance::Issuer& issuer, issuance::IssuedToken token, TokenAnswer answer)
      : issuer_(issuer), token_(std::move(token)), answer_(std::move(answer)) {}

  void start(Wake wake) noexcept override {
    wake_ = std::move(wake);
    try {
      issuer_.record(std::move(token_.line), [this](const Status& written) { woken(written); });
    } catch (...) {
      // Nothing was queued (the record could not even be formatted): refuse the token.
      woken(make_error(Code::kAuditUnavailable, "the audit ledger line could not be made: " + exception_text()));
    }
  }

  http::Response finish() override {
    if (!written_.ok()) return http::error_response(written_.error());
    return answer_(token_);
  }

 private:
  void woken(const Status& written) {
    written_ = written;
    const Wake wake = std::move(wake_);  // this object may be freed once wake returns
    wake();
  }

  const issuance::Issuer& issuer_;
  issuance::IssuedToken token_;
  TokenAnswer answer_;
  Wake wake_;
  Status written_ = ok_status();
};

}  // namespace

http::Response hand_out(const issuance::Issuer& issuer, issuance::IssuedToken token, TokenAnswer answer) {
  if (!issuer.records()) return answer(token);
  return http::deferred_response(std::make_unique<WhenRecorded>(issuer, std::move(token), std::move(answer)));
}

}  // namespace signet::api
