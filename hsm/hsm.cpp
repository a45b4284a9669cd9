// Hsm::open, and the Hsm that lends each operation a pooled session. Owns, in this order, the
// logged-in token (which holds the module) and the session pool, so that destruction closes
// the pool's sessions, then logs out and closes the login session, then finalizes and unloads.
#include "hsm/hsm.h"

#include <algorithm>
#include <utility>

#include "hsm/operations.h"
#include "hsm/session_pool.h"
#include "hsm/token.h"

namespace signet::hsm {
namespace {

// Opened at start-up, so that a token that cannot serve fails open() rather than the first sign.
constexpr std::size_t kPreopenedSessions = 4;
constexpr std::size_t kMaxPoolSessions = 4096;

class P11Hsm final : public Hsm {
 public:
  P11Hsm(std::unique_ptr<Token> token, std::unique_ptr<SessionPool> pool)
      : token_(std::move(token)), pool_(std::move(pool)) {}

  Result<KeyInfo> generate_key(SignScheme scheme, unsigned rsa_bits) override {
    return in_session<KeyInfo>(
        [&](SessionRef& s) { return generate_key_pair(s, scheme, rsa_bits); });
  }

  Result<std::vector<KeyInfo>> list_keys() override {
    return in_session<std::vector<KeyInfo>>([](SessionRef& s) { return list_key_pairs(s); });
  }

  Status destroy_key(std::string_view id) override {
    return in_session<Ok>([&](SessionRef& s) { return destroy_key_pair(s, id); });
  }

  Result<std::size_t> sign(const KeyRef& key, std::string_view message, unsigned char* out,
                           std::size_t out_len) override {
    return in_session<std::size_t>(
        [&](SessionRef& s) { return sign_message(s, key, message, out, out_len); });
  }

  Result<std::string> read_data(std::string_view label) override {
    return in_session<std::string>([&](SessionRef& s) { return read_data_object(s, label); });
  }

  Status write_data(std::string_view label, std::string_view value) override {
    return in_session<Ok>([&](SessionRef& s) { return write_data_object(s, label, value); });
  }

  Result<std::vector<std::pair<std::string, std::string>>> list_data(std::string_view prefix) override {
    return in_session<std::vector<std::pair<std::string, std::string>>>(
        [&](SessionRef& s) { return list_data_objects(s, prefix); });
  }

  Status destroy_data(std::string_view label) override {
    return in_session<Ok>([&](SessionRef& s) { return destroy_data_objects(s, label); });
  }

  std::size_t session_capacity() const override { return pool_->capacity(); }

  Status check_health() override {
    CK_SESSION_INFO info{};
    CK_RV rv = token_->api().C_GetSessionInfo(token_->login_session(), &info);
    if (rv != CKR_OK) {
      return make_error(Code::kHsmUnavailable, "the token '" + token_->label() +
                                                   "' does not answer (" + rv_name(rv) + ")");
    }
    if (info.state != CKS_RO_USER_FUNCTIONS && info.state != CKS_RW_USER_FUNCTIONS) {
      return make_error(Code::kHsmUnavailable,
                        "the token '" + token_->label() + "' is no longer logged in");
    }
    return ok_status();
  }

 private:
  // Runs `op` in a pooled session. When the module says the session is gone, the session is
  // reopened and `op` runs once more; a second loss is reported, not retried.
  template <class T, class Op>
  Result<T> in_session(Op&& op) {
    auto lease = pool_->acquire();
    if (!lease.ok()) return lease.error();
    for (int attempt = 0;; ++attempt) {
      SessionRef session{token_->api(), lease->handle()};
      Result<T> result = op(session);
      if (session.discard || session.lost != CKR_OK) lease->drop();
      if (result.ok() || session.lost == CKR_OK || attempt == 1) return result;
      if (Status reopened = lease->reopen(); !reopened.ok()) return reopened.error();
    }
  }

  std::unique_ptr<Token> token_;
  std::unique_ptr<SessionPool> pool_;
};

}  // namespace

Result<std::unique_ptr<Hsm>> Hsm::open(Options options) {
  // Every early return leaves the PIN wiped, by Token::open or by the SecretString's destructor.
  if (options.max_sessions == 0 || options.max_sessions > kMaxPoolSessions) {
    return make_error(Code::kConfig, "max_sessions must be between 1 and " +
                                         std::to_string(kMaxPoolSessions));
  }
  auto module = Module::load(options.module_path);
  if (!module.ok()) return module.error();
  auto token = Token::open(std::move(*module), options.token_label, options.pin);
  if (!token.ok()) return token.error();

  std::size_t capacity = options.max_sessions;
  if ((*token)->session_limit() != 0) {
    capacity = std::min<std::size_t>(capacity, (*token)->session_limit());
  }
  auto pool = SessionPool::create((*token)->api(), (*token)->slot(), capacity,
                                  std::min(capacity, kPreopenedSessions));
  if (!pool.ok()) return pool.error();
  return std::unique_ptr<Hsm>(new P11Hsm(std::move(*token), std::move(*pool)));
}

}  // namespace signet::hsm
