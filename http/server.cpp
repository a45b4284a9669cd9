#include "http/server.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <strings.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "base/catch_all.h"
#include "base/log.h"
#include "http/client_trust.h"
#include "http/connection_deadlines.h"
#include "http/refusal_log.h"
#include "http/session_tickets.h"
#include "http/tls_identity.h"

namespace signet::http {

struct Server::Impl {
  MHD_Daemon* daemon = nullptr;
  const Router* router = nullptr;
  std::size_t max_body_bytes = 0;
  std::shared_ptr<ConnectionStats> stats;
  std::unique_ptr<ConnectionDeadlines> deadlines;  // outlives the daemon: see ~Server
  std::atomic<std::int64_t> refusals_logged_at{0};  // steady seconds of the last connections_refused line
  // libmicrohttpd reads it at start (to ask clients for a certificate); it lives as long as
  // the daemon regardless.
  std::string client_ca_pem;
  // What requests verify client certificates against; null without mTLS.
  std::atomic<std::shared_ptr<const ClientTrust>> client_trust;
  std::unique_ptr<SessionTickets> tickets;  // on_connection uses it until the daemon stops (~Server)
  // Connections parked on a deferred answer: libmicrohttpd must not be stopped while one is
  // suspended, so ~Server waits for the count to reach 0, and once closing, nothing is parked.
  std::mutex parking_mu;
  std::condition_variable unparked;
  std::size_t parked = 0;
  bool closing = false;
};

namespace {

// An oversized body is read on and thrown away up to this many bytes (as nginx's lingering
// close does), so that a client that sends its whole body before it reads still receives its
// 413 instead of a connection reset by unread data. A body announced larger, or a chunked one
// that runs past it, is answered at once and the connection closes.
constexpr std::size_t kMaxDiscardBytes = 4 << 20;

// A connection's last verdict on its client certificate (with mTLS only). The certificate of a
// TLS session does not change, so a keep-alive connection verifies its chain once, and again
// only when the CA is replaced, the verdict's time is up, or the leaf differs (renegotiation).
struct PeerCache {
  std::shared_ptr<const ClientTrust> trust;  // what the verdict was reached against
  std::string leaf_der;
  ClientTrust::Verdict verdict;
};

// What the server keeps per connection, from accept to close. libmicrohttpd runs a connection
// on one thread at a time, so its cache needs no lock.
struct ConnectionState {
  ConnectionDeadlines::Entry deadline;
  PeerCache peer;
};

// What one request accumulates between libmicrohttpd's calls.
struct PendingRequest {
  const Server::Impl* server = nullptr;
  MHD_Connection* connection = nullptr;
  ConnectionState* state = nullptr;
  std::string body;
  bool too_large = false;
  std::size_t discarded = 0;
  std::optional<std::optional<std::string>> peer_subject;  // outer: computed yet
  Response parked;  // a deferred answer, while the connection waits for it
};

ConnectionState* connection_state(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info ? static_cast<ConnectionState*>(info->socket_context) : nullptr;
}

// Before the handshake, which is the last moment GnuTLS still lets a session accept a ticket
// (session_tickets.h). Without tickets a client only loses resumption, so a failure is logged
// and the connection goes on.
void enable_resumption(Server::Impl& impl, MHD_Connection* connection) {
  const MHD_ConnectionInfo* tls = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (!tls || !tls->tls_session) return;
  Status enabled = impl.tickets->enable(static_cast<gnutls_session_t>(tls->tls_session));
  if (!enabled.ok()) log::warn("tls_session_tickets", {{"detail", enabled.error().message}});
}

// libmicrohttpd's callbacks are C: each one ends in a catch-all, since no exception may unwind
// through libmicrohttpd.
void on_connection(void* cls, MHD_Connection* connection, void** socket_context,
                   MHD_ConnectionNotificationCode code) noexcept try {
  auto* impl = static_cast<Server::Impl*>(cls);
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    auto state = std::make_unique<ConnectionState>();
    enable_resumption(*impl, connection);
    const MHD_ConnectionInfo* fd = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    impl->deadlines->opened(state->deadline, fd ? fd->connect_fd : -1);
    impl->stats->open.fetch_add(1, std::memory_order_relaxed);
    *socket_context = state.release();
  } else if (auto* state = static_cast<ConnectionState*>(*socket_context)) {
    impl->deadlines->closed(state->deadline);  // before libmicrohttpd closes the socket
    impl->stats->open.fetch_sub(1, std::memory_order_relaxed);
    delete state;  // only once closed() returned: the reaper may no longer see it
    *socket_context = nullptr;
  }
} catch (...) {
  // A connection without state has no deadline (requests then skip theirs); one whose close
  // failed keeps its state, leaked, rather than leave the reaper a dangling entry.
  log_exception("http_connection_notify");
}

// The client certificate's subject, when it verifies against the current client CA.
std::optional<std::string> verified_peer_subject(const PendingRequest& pending) {
  auto trust = pending.server->client_trust.load(std::memory_order_acquire);
  const MHD_ConnectionInfo* session = MHD_get_connection_info(pending.connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (!trust || !session || !session->tls_session || !pending.state) return std::nullopt;
  unsigned count = 0;
  const gnutls_datum_t* chain =
      gnutls_certificate_get_peers(static_cast<gnutls_session_t>(session->tls_session), &count);
  if (!chain || count == 0) return std::nullopt;
  PeerCache* cache = &pending.state->peer;
  const std::time_t now = std::time(nullptr);
  const std::string_view leaf(reinterpret_cast<const char*>(chain[0].data), chain[0].size);
  if (cache->trust != trust || now >= cache->verdict.recheck_at || cache->leaf_der != leaf) {
    cache->verdict = trust->check(chain, count, now);
    cache->leaf_der = leaf;
    cache->trust = std::move(trust);
  }
  return cache->verdict.subject;
}

// The raw bytes of the client's IP address, which libmicrohttpd keeps for the connection's life.
std::optional<std::string_view> peer_address(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!info || !info->client_addr) return std::nullopt;
  if (info->client_addr->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(info->client_addr);
    return std::string_view(reinterpret_cast<const char*>(&v4->sin_addr), sizeof v4->sin_addr);
  }
  if (info->client_addr->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(info->client_addr);
    return std::string_view(reinterpret_cast<const char*>(&v6->sin6_addr), sizeof v6->sin6_addr);
  }
  return std::nullopt;
}

std::optional<std::string_view> lookup(const void* context, Request::Part part, std::string_view name) {
  auto* pending = static_cast<PendingRequest*>(const_cast<void*>(context));
  if (part == Request::Part::kPeerSubject) {
    if (!pending->peer_subject) pending->peer_subject = verified_peer_subject(*pending);
    if (!*pending->peer_subject) return std::nullopt;
    return std::string_view(**pending->peer_subject);
  }
  MHD_Connection* connection = pending->connection;
  if (part == Request::Part::kPeerAddress) return peer_address(connection);
  const MHD_ValueKind kind = part == Request::Part::kHeader ? MHD_HEADER_KIND : MHD_GET_ARGUMENT_KIND;
  const char* value = nullptr;
  std::size_t size = 0;
  if (MHD_lookup_connection_value_n(connection, kind, name.data(), name.size(), &value, &size) != MHD_YES) {
    return std::nullopt;
  }
  return std::string_view(value ? value : "", value ? size : 0);
}

void release_body(void* holder) { delete static_cast<std::shared_ptr<const std::string>*>(holder); }

MHD_Result send(MHD_Connection* connection, Response response) {
  // Hand the body to libmicrohttpd without copying it: the holder keeps it alive until sent.
  auto* holder = new std::shared_ptr<const std::string>(
      response.shared_body ? std::move(response.shared_body)
                           : std::make_shared<const std::string>(std::move(response.body)));
  const std::string& body = **holder;
  MHD_Response* r = MHD_create_response_from_buffer_with_free_callback_cls(
      body.size(), const_cast<char*>(body.data()), &release_body, holder);
  if (!r) {
    delete holder;
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, response.content_type.c_str());
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  for (const auto& [name, value] : response.headers) MHD_add_response_header(r, name.c_str(), value.c_str());
  const MHD_Result result = MHD_queue_response(connection, response.status, r);
  MHD_destroy_response(r);
  return result;
}

// Sends the answer of a request and logs it if it is a refusal.
MHD_Result answer(MHD_Connection* connection, const Request& request, Response response) {
  log_refusal(request, response);
  return send(connection, std::move(response));
}

// Parks the connection until the deferred answer wakes it: libmicrohttpd then calls
// handle_request again, which sends router.finish(). The worker thread serves other
// connections meanwhile.
MHD_Result park(Server::Impl* impl, MHD_Connection* connection, PendingRequest* pending, const Request& request,
                Response deferred) {
  bool closing = false;
  {
    std::lock_guard lock(impl->parking_mu);
    closing = impl->closing;
    if (!closing) ++impl->parked;
  }
  if (!closing) impl->stats->parked.fetch_add(1, std::memory_order_relaxed);
  // Stopping: nothing may be parked any more, so this thread waits (outside the lock, which
  // the wakes of parked connections take).
  if (closing) return answer(connection, request, impl->router->await(deferred));
  pending->parked = std::move(deferred);
  // Suspended before start(): a wake, even one start() makes itself, finds it suspended.
  MHD_suspend_connection(connection);
  pending->parked.deferred->start([impl, connection] {
    Server::Impl* server = impl;  // the closure may be freed once the connection resumes
    server->stats->parked.fetch_sub(1, std::memory_order_relaxed);
    MHD_resume_connection(connection);
    std::lock_guard lock(server->parking_mu);
    if (--server->parked == 0) server->unparked.notify_all();
  });
  return MHD_YES;
}

MHD_Result too_large(MHD_Connection* connection, const Request& request) {
  return answer(connection, request, error_response(413, "payload_too_large", "the request body is larger than allowed"));
}

// Whether the client waits for "100 Continue" before it sends its body (RFC 9110 §10.1.1).
bool expects_continue(MHD_Connection* connection) {
  const char* expect = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
  return expect && strcasecmp(expect, "100-continue") == 0;
}

MHD_Result handle_request(Server::Impl* impl, MHD_Connection* connection, const char* url, const char* method,
                          const char* upload_data, std::size_t* upload_data_size, void** request_state) {
  auto* pending = static_cast<PendingRequest*>(*request_state);
  if (!pending) {
    // First call: headers only.
    *request_state = pending = new PendingRequest;
    pending->server = impl;
    pending->connection = connection;
    pending->state = connection_state(connection);
    const char* length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const unsigned long long announced = length ? std::strtoull(length, nullptr, 10) : 0;
    if (announced > impl->max_body_bytes) {
      // Refused before the body comes when the client waits for our word, or when the body is
      // too large to read through; otherwise read to its end and thrown away (below).
      if (expects_continue(connection) || announced > kMaxDiscardBytes) {
        if (pending->state) ConnectionDeadlines::request_received(pending->state->deadline);
        return too_large(connection, Request(method, url, {}, &lookup, pending));
      }
      pending->too_large = true;
    }
    return MHD_YES;
  }
  if (*upload_data_size) {
    const std::size_t size = *upload_data_size;
    *upload_data_size = 0;
    // Counted while reading, so a chunked body without a length is capped too.
    if (!pending->too_large && pending->body.size() + size > impl->max_body_bytes) {
      pending->too_large = true;
      std::string().swap(pending->body);
    }
    if (!pending->too_large) {
      pending->body.append(upload_data, size);
    } else if ((pending->discarded += size) > kMaxDiscardBytes) {
      return too_large(connection, Request(method, url, {}, &lookup, pending));
    }
    return MHD_YES;
  }
  const Request request(method, url, pending->body, &lookup, pending);
  if (pending->parked.deferred) {
    // Called again after a wake: the deferred answer is ready.
    Response response = impl->router->finish(pending->parked);
    pending->parked = Response();
    return answer(connection, request, std::move(response));
  }
  if (pending->state) ConnectionDeadlines::request_received(pending->state->deadline);
  if (pending->too_large) return too_large(connection, Request(method, url, {}, &lookup, pending));
  Response response = impl->router->dispatch(request);
  if (response.deferred) return park(impl, connection, pending, request, std::move(response));
  return answer(connection, request, std::move(response));
}

// The Router already turns a handler's exception into a 500; this catches the rest (the
// server's own code, the allocation of an answer) and answers the same 500 when it still can.
// When even that fails, MHD_NO makes libmicrohttpd close the connection.
MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url, const char* method,
                      const char* /*version*/, const char* upload_data, std::size_t* upload_data_size,
                      void** request_state) noexcept {
  try {
    return handle_request(static_cast<Server::Impl*>(cls), connection, url, method, upload_data, upload_data_size,
                          request_state);
  } catch (...) {
    try {
      *upload_data_size = 0;
      const std::string what = exception_text();
      return send(connection, error_response(make_error(Code::kInternal, "the HTTP server threw: " + what)));
    } catch (...) {
      log_exception("http_request");
      return MHD_NO;
    }
  }
}

void on_completed(void* cls, MHD_Connection* /*connection*/, void** request_state,
                  MHD_RequestTerminationCode /*code*/) noexcept try {
  auto* pending = static_cast<PendingRequest*>(*request_state);
  *request_state = nullptr;
  std::unique_ptr<PendingRequest> owned(pending);
  if (pending && pending->state) static_cast<Server::Impl*>(cls)->deadlines->answered(pending->state->deadline);
} catch (...) {
  log_exception("http_request_completed");
}

// libmicrohttpd's messages, as log lines. A refused connection is counted, not logged each
// time: a flood of connections must not become a flood of lines.
void on_log(void* cls, const char* format, va_list args) noexcept try {
  auto* impl = static_cast<Server::Impl*>(cls);
  if (std::strncmp(format, "Server reached connection limit", 31) == 0) {
    const auto refused = impl->stats->refused.fetch_add(1, std::memory_order_relaxed) + 1;
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::steady_clock::now().time_since_epoch()).count();
    auto last = impl->refusals_logged_at.load(std::memory_order_relaxed);
    if (now - last >= 10 && impl->refusals_logged_at.compare_exchange_strong(last, now)) {
      log::warn("connections_refused", {{"total", std::to_string(refused)},
                                        {"detail", "the connection limit, in all or for one address, was reached"}});
    }
    return;
  }
  char text[512];
  std::vsnprintf(text, sizeof text, format, args);
  std::size_t n = std::strlen(text);
  while (n && text[n - 1] == '\n') text[--n] = '\0';
  log::warn("http", {{"detail", text}});
} catch (...) {
  log_exception("http_log");
}

Result<sockaddr_storage> bind_address(const std::string& address, std::uint16_t port, socklen_t* length) {
  sockaddr_storage storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *length = sizeof(sockaddr_in6);
  } else {
    return make_error(Code::kConfig, "listen.address \"" + address + "\" is not an IPv4 or IPv6 address");
  }
  return storage;
}

// What a request's header block may hold: 16 KiB, as Node.js and HAProxy allow by default.
// signetd's own clients send well under 1 KiB (an API key or HTTP Basic, a media type); the rest
// is room for what proxies and meshes add (forwarding, tracing, a forwarded client certificate).
// libmicrohttpd answers a larger block 431.
constexpr std::size_t kMaxHeaderBytes = 16 << 10;

// libmicrohttpd's memory per connection (MHD_OPTION_CONNECTION_MEMORY_LIMIT). It holds the
// header block where it was read, an index entry of about 64 bytes per header field, and the
// answer's headers; not the body, which handle_request copies out piece by piece as it comes, so
// max_body_bytes does not enter. Twice the header allowance takes a 16 KiB header block even of
// short fields (measured: 244 fields of 64 bytes, or one field of 31 KiB). No larger: libmicrohttpd
// zeroes all of it, and half of it again, at every request (about 49 k instructions at 32 KiB,
// 98 k at 64 KiB: docs/PERFORMANCE.md).
constexpr std::size_t kConnectionMemoryBytes = 2 * kMaxHeaderBytes;

}  // namespace

Result<std::unique_ptr<Server>> Server::start(ServerOptions options, const Router& router) {
  if (!TlsIdentity::serving()) return make_error(Code::kTls, "no TLS certificate and key are being served");
  socklen_t address_length = 0;
  auto address = bind_address(options.address, options.port, &address_length);
  if (!address.ok()) return address.error();

  auto impl = std::make_unique<Impl>();
  impl->router = &router;
  impl->max_body_bytes = options.max_body_bytes;
  impl->stats = router.connection_stats();
  impl->deadlines = std::make_unique<ConnectionDeadlines>(options.request_timeout, options.idle_timeout,
                                                          impl->stats->timed_out);
  if (options.client_trust) impl->client_ca_pem = options.client_trust->pem();
  impl->client_trust.store(std::move(options.client_trust));
  auto tickets = SessionTickets::create();
  if (!tickets.ok()) return tickets.error();
  impl->tickets = std::move(*tickets);
  const unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());

  // The options as a list, since which ones apply depends on the configuration.
  // libmicrohttpd takes every pointer option as void* and only reads through the const ones.
  auto pointer = [](const auto* p) { return const_cast<void*>(static_cast<const void*>(p)); };
  // libmicrohttpd's own timeout counts inactivity only; it still ends a client that stops
  // reading its answer. The deadlines that trickled bytes cannot stretch are ConnectionDeadlines'.
  const auto inactivity = std::max({options.request_timeout, options.idle_timeout, std::chrono::seconds(15)});
  std::vector<MHD_OptionItem> list = {
      {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&on_log), impl.get()},  // first: no message bypasses it
      {MHD_OPTION_SOCK_ADDR, 0, pointer(&*address)},
      {MHD_OPTION_HTTPS_PRIORITIES, 0, pointer(kTlsPriorities)},
      {MHD_OPTION_THREAD_POOL_SIZE, threads, nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, options.max_connections, nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, options.max_connections_per_address, nullptr},  // 0: none
      {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(inactivity.count()), nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemoryBytes, nullptr},
      {MHD_OPTION_STRICT_FOR_CLIENT, 1, nullptr},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&on_completed), impl.get()},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&on_connection), impl.get()},
      // Each handshake asks for the served identity, so a reload reaches new connections.
      {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, reinterpret_cast<void*>(&TlsIdentity::certificate_callback)},
  };
  if (!impl->client_ca_pem.empty()) {
    // libmicrohttpd then asks every client for a certificate (without requiring one: API-key
    // clients still connect), naming this CA; each request verifies the certificate against
    // the current client_trust (verified_peer_subject).
    list.push_back({MHD_OPTION_HTTPS_MEM_TRUST, 0, pointer(impl->client_ca_pem.c_str())});
  }
  list.push_back({MHD_OPTION_END, 0, nullptr});
  impl->daemon = MHD_start_daemon(MHD_USE_TLS | MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                                      MHD_USE_ERROR_LOG,
                                  options.port,
                                  nullptr, nullptr, &on_request, impl.get(), MHD_OPTION_ARRAY, list.data(),
                                  MHD_OPTION_END);
  if (!impl->daemon) {
    return make_error(Code::kInternal, "cannot listen on " + options.address + ":" + std::to_string(options.port) +
                                           " (address in use, or not allowed)");
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (!impl_ || !impl_->daemon) return;
  {
    // The deferred answers come from the audit ledger, which outlives the server and answers
    // every record it queued.
    std::unique_lock lock(impl_->parking_mu);
    impl_->closing = true;
    impl_->unparked.wait(lock, [this] { return impl_->parked == 0; });
  }
  MHD_stop_daemon(impl_->daemon);
}

void Server::replace_client_trust(std::shared_ptr<const ClientTrust> trust) {
  if (!impl_->client_trust.load()) return;
  impl_->client_trust.store(std::move(trust), std::memory_order_release);
}

std::uint16_t Server::port() const {
  const MHD_DaemonInfo* info = MHD_get_daemon_info(impl_->daemon, MHD_DAEMON_INFO_BIND_PORT);
  return info ? info->port : 0;
}

}  // namespace signet::http
