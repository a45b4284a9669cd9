// Deadlines that a slow client cannot stretch. libmicrohttpd's own timeout restarts at every
// byte read, so a client trickling one byte every few seconds would hold its connection, and
// its share of limits.max_connections, for as long as it likes. Here every connection has at
// most one deadline at a time:
//   - accepted: the TLS handshake and the whole first request by accept + request_timeout;
//   - a request whole and being answered: no deadline (the signing queue bounds that wait);
//   - answered: the whole next request by then + idle_timeout (an idle keep-alive ends there).
// A reaper thread shuts down the socket of a connection past its deadline, and libmicrohttpd
// then closes it as it would a peer that hung up. The request path touches one atomic per
// request; the registry's mutex is taken when a connection opens or closes and by the reaper.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace signet::http {

class ConnectionDeadlines {
 public:
  // One connection's record; the caller owns it from opened() until closed().
  struct Entry {
    int fd = -1;
    std::atomic<std::int64_t> deadline_ms{0};  // steady clock; kNone: no deadline
    Entry* prev = nullptr;                     // the registry's list, under its mutex
    Entry* next = nullptr;
  };
  static constexpr std::int64_t kNone = INT64_MAX;

  // expired counts the connections shut down for a missed deadline (for /metrics).
  ConnectionDeadlines(std::chrono::seconds request_timeout, std::chrono::seconds idle_timeout,
                      std::atomic<std::uint64_t>& expired);
  ~ConnectionDeadlines();  // stops the reaper; every entry must be closed() by then
  ConnectionDeadlines(const ConnectionDeadlines&) = delete;
  ConnectionDeadlines& operator=(const ConnectionDeadlines&) = delete;

  // A connection was accepted on fd: its handshake and first request are due.
  void opened(Entry& entry, int fd);
  // libmicrohttpd is about to close the connection's socket: forget it first.
  void closed(Entry& entry);
  // The request is whole: no deadline while it is answered.
  static void request_received(Entry& entry) { entry.deadline_ms.store(kNone, std::memory_order_relaxed); }
  // The answer is sent: the next request is due within idle_timeout.
  void answered(Entry& entry) const { entry.deadline_ms.store(now_ms() + idle_ms_, std::memory_order_relaxed); }

 private:
  static std::int64_t now_ms();
  void run_reaper();
  void reap();

  const std::int64_t request_ms_;
  const std::int64_t idle_ms_;
  std::mutex mu_;
  std::condition_variable wake_;
  Entry* head_ = nullptr;
  bool stopping_ = false;
  std::atomic<std::uint64_t>& expired_;
  std::thread reaper_;
};

}  // namespace signet::http
