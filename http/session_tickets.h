// TLS session resumption by session tickets (RFC 8446 §4.6.1 for TLS 1.3, RFC 5077 for TLS 1.2),
// so that a client that opens a new connection per request skips the certificate exchange and
// the server's signature (with tls.key_uri, a signature in the token) on its next handshake.
//
// libmicrohttpd 0.9.75 sets up no resumption at all: a GnuTLS server session starts with
// GNUTLS_NO_TICKETS (gnutls_init), has no session cache (no gnutls_db_set_* functions), and
// libmicrohttpd has no option for either. GnuTLS consults the flag while it parses the
// ClientHello (the pre_shared_key and session_ticket extensions), before any callback of a
// handshake such as the certificate callback runs, so tickets must be enabled on the session
// before its handshake starts: libmicrohttpd's connection notification
// (MHD_CONNECTION_NOTIFY_STARTED) comes after gnutls_init and before the first byte is read,
// which is where the server calls enable().
//
// The ticket key (STEK) is random, made in memory by GnuTLS at start, never written anywhere,
// replaced by the first connection that comes kRotation or more after it was made (no thread
// of its own: a key seals nothing while no connection comes), and wiped when replaced and at
// exit. GnuTLS copies it into each session (and wipes that copy at gnutls_deinit). A ticket
// sealed under a replaced key is no longer accepted: its client does one full handshake and gets
// a ticket under the new key. So whoever reads the process's memory can open at most the tickets
// sealed in one key's kRotation, and tickets seen on the wire cannot be opened once their key is
// gone. TLS 1.3 resumption keeps an (EC)DHE exchange when the client offers it (psk_dhe_ke,
// which every common client does); a resumed TLS 1.2 session has only the ticket's secret, which
// is why the rotation is short.
//
// A resumed session carries the client certificate of its first handshake; requests verify it
// against the current client CA as they do on any connection (server.cpp).
#pragma once

#include <gnutls/gnutls.h>

#include <chrono>
#include <memory>
#include <mutex>

#include "base/result.h"

namespace signet::http {

class SessionTickets {
 public:
  // How long one ticket key serves, and how long a ticket is valid: a ticket cannot outlive
  // the key that sealed it by much, and a client keeps it no longer than told.
  static constexpr std::chrono::seconds kRotation{3600};

  // Makes the first key. Errors: kTls (GnuTLS could not generate one).
  static Result<std::unique_ptr<SessionTickets>> create(std::chrono::seconds rotation = kRotation);

  SessionTickets(const SessionTickets&) = delete;
  SessionTickets& operator=(const SessionTickets&) = delete;
  ~SessionTickets();  // wipes the key

  // Lets a server session that has not begun its handshake issue tickets and accept them,
  // under the current key (replaced first when its time is up). Thread-safe. On error
  // (kTls) the session goes on without tickets: a full handshake, never a failed one.
  Status enable(gnutls_session_t session);

 private:
  explicit SessionTickets(std::chrono::seconds rotation) : rotation_(rotation) {}
  Status renew();  // with mu_ held
  void wipe();     // with mu_ held, or from the destructor

  std::mutex mu_;
  gnutls_datum_t key_{nullptr, 0};
  std::chrono::steady_clock::time_point made_{};
  const std::chrono::seconds rotation_;
};

}  // namespace signet::http
