#include "http/session_tickets.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace signet::http {
namespace {

Error tls_error(const std::string& what, int rv) {
  return make_error(Code::kTls, what + ": " + gnutls_strerror(rv));
}

}  // namespace

Result<std::unique_ptr<SessionTickets>> SessionTickets::create(std::chrono::seconds rotation) {
  std::unique_ptr<SessionTickets> tickets(new SessionTickets(rotation));
  std::lock_guard lock(tickets->mu_);
  if (Status made = tickets->renew(); !made.ok()) return made.error();
  return tickets;
}

SessionTickets::~SessionTickets() { wipe(); }

void SessionTickets::wipe() {
  if (key_.data == nullptr) return;
  gnutls_memset(key_.data, 0, key_.size);  // not elided, unlike a memset before a free
  gnutls_free(key_.data);
  key_ = {nullptr, 0};
}

Status SessionTickets::renew() {
  wipe();  // the old key goes first: a failure below must not leave it in use
  gnutls_datum_t fresh{nullptr, 0};
  if (int rv = gnutls_session_ticket_key_generate(&fresh); rv < 0) {
    return tls_error("cannot make a TLS session ticket key", rv);
  }
  key_ = fresh;
  made_ = std::chrono::steady_clock::now();
  return ok_status();
}

Status SessionTickets::enable(gnutls_session_t session) {
  std::lock_guard lock(mu_);
  if (key_.data == nullptr || std::chrono::steady_clock::now() - made_ >= rotation_) {
    if (Status renewed = renew(); !renewed.ok()) return renewed;
  }
  // GnuTLS copies the key into the session; ours may be replaced while the session lives.
  if (int rv = gnutls_session_ticket_enable_server(session, &key_); rv < 0) {
    return tls_error("cannot enable TLS session tickets", rv);
  }
  // The lifetime that TLS 1.3 tickets announce and GnuTLS checks on resumption (TLS 1.2 too).
  // Never 0: GnuTLS divides by it to time its own turns of the key (stek.c), and would trap.
  gnutls_db_set_cache_expiration(session, static_cast<int>(std::max<std::int64_t>(1, rotation_.count())));
  return ok_status();
}

}  // namespace signet::http
