// The HTTPS front end: libmicrohttpd with GnuTLS, TLS 1.2 and 1.3 only, a pool of worker
// threads (each with its own epoll), connection limits (in all and per client address),
// deadlines a slow client cannot stretch (connection_deadlines.h), and a request body cap
// counted while reading. It hands complete requests to a Router. Its certificate and key are
// the served TlsIdentity (tls_identity.h); the client CA can be replaced while it runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "http/client_trust.h"
#include "http/router.h"

namespace signet::http {

// TLS 1.2 and 1.3, ECDHE with AEAD ciphers only, the server's preference first.
inline constexpr const char* kTlsPriorities =
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE";

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8443;
  std::shared_ptr<const ClientTrust> client_trust;  // non-null: ask clients for a certificate (mTLS)
  std::size_t max_body_bytes = 16384;
  unsigned max_connections = 1024;
  unsigned max_connections_per_address = 0;  // 0: no per-address limit
  std::chrono::seconds request_timeout{10};  // accept to the first request, whole
  std::chrono::seconds idle_timeout{30};     // an answer to the next request, whole
  unsigned threads = 0;  // 0: one per core
};

class Server {
 public:
  // Starts serving at once with the served TlsIdentity (kTls when none is); the router must
  // outlive the server.
  static Result<std::unique_ptr<Server>> start(ServerOptions options, const Router& router);
  ~Server();  // stops accepting, finishes in-flight requests, closes connections
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;

  // Verifies client certificates against `trust` from now on. Only for a server started with
  // a client CA (ignored otherwise): libmicrohttpd decides at start whether it asks clients
  // for a certificate at all, and names the start's CA in its request.
  void replace_client_trust(std::shared_ptr<const ClientTrust> trust);

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace signet::http
