#include "http/connection_deadlines.h"

#include <sys/socket.h>

#include "base/catch_all.h"

namespace signet::http {
namespace {

// How often the reaper looks: deadlines are whole seconds, so this is late by at most a quarter.
constexpr std::chrono::milliseconds kTick{250};

}  // namespace

ConnectionDeadlines::ConnectionDeadlines(std::chrono::seconds request_timeout, std::chrono::seconds idle_timeout,
                                         std::atomic<std::uint64_t>& expired)
    : request_ms_(request_timeout.count() * 1000), idle_ms_(idle_timeout.count() * 1000), expired_(expired),
      reaper_([this] { run_reaper(); }) {}

ConnectionDeadlines::~ConnectionDeadlines() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  reaper_.join();
}

std::int64_t ConnectionDeadlines::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void ConnectionDeadlines::opened(Entry& entry, int fd) {
  entry.fd = fd;
  entry.deadline_ms.store(now_ms() + request_ms_, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  entry.prev = nullptr;
  entry.next = head_;
  if (head_) head_->prev = &entry;
  head_ = &entry;
}

void ConnectionDeadlines::closed(Entry& entry) {
  std::lock_guard lock(mu_);
  if (entry.prev) entry.prev->next = entry.next;
  else if (head_ == &entry) head_ = entry.next;
  if (entry.next) entry.next->prev = entry.prev;
  entry.prev = entry.next = nullptr;
  entry.fd = -1;
}

// The thread's entry. reap() keeps no state across its iterations but the registry, which is
// consistent whenever the mutex is free, so after an exception (logged) it simply starts again:
// a reaper that stopped would let slow clients hold their connections for good.
void ConnectionDeadlines::run_reaper() {
  for (;;) {
    try {
      reap();
      return;
    } catch (...) {
      log_exception("connection_deadlines_reaper");
    }
    std::this_thread::sleep_for(kTick);
  }
}

void ConnectionDeadlines::reap() {
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, kTick, [this] { return stopping_; })) {
    const std::int64_t now = now_ms();
    for (Entry* e = head_; e; e = e->next) {
      if (e->fd < 0 || e->deadline_ms.load(std::memory_order_relaxed) > now) continue;
      // The socket is still libmicrohttpd's: closed() runs, under this mutex, before it is
      // closed. Shutting it down wakes its worker, which reads the end of the stream and
      // closes the connection; no deadline is left for the reaper to try again.
      e->deadline_ms.store(kNone, std::memory_order_relaxed);
      ::shutdown(e->fd, SHUT_RDWR);
      expired_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

}  // namespace signet::http
