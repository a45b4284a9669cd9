// The clients signetd knows at one moment: their configuration, how they authenticate, and
// their rate-limit buckets. SIGHUP builds a new ClientTable and publishes it in the
// ClientDirectory; a request keeps the table it loaded until it ends, so a reload never pulls a
// client out from under a request. Loading the table is one atomic<shared_ptr> load (in
// libstdc++ a few instructions under a spin bit, plus a reference count), no mutex.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "config/config.h"
#include "firmware/auth/clients.h"
#include "firmware/limits/rate_limiter.h"

namespace signet::auth {

class ClientTable {
 public:
  // rate: limits.requests_per_second_per_client. A client of `previous` with the same id keeps
  // its bucket, so a reload neither refills nor empties it (requests the old table admits
  // while the new one is built are not carried over: a few at most).
  ClientTable(std::vector<config::Client> clients, double rate, const ClientTable* previous = nullptr);
  ClientTable(const ClientTable&) = delete;
  ClientTable& operator=(const ClientTable&) = delete;

  const std::vector<config::Client>& clients() const { return clients_; }
  const ClientRegistry& registry() const { return registry_; }

  // Takes one request from the bucket of `client`, which must be one of clients().
  limits::Decision admit(const config::Client& client, limits::RateLimiter::Clock::time_point now) const;

 private:
  std::size_t index_of(const config::Client& client) const {
    return static_cast<std::size_t>(&client - clients_.data());
  }

  const std::vector<config::Client> clients_;
  const ClientRegistry registry_;             // over clients_
  mutable limits::RateLimiter limiter_;       // a bucket per client, by index in clients_
};

// The table in force. Loading and publishing are atomic; old tables live on as long as a
// request holds them.
class ClientDirectory {
 public:
  explicit ClientDirectory(std::shared_ptr<const ClientTable> table) : table_(std::move(table)) {}

  std::shared_ptr<const ClientTable> current() const { return table_.load(std::memory_order_acquire); }
  void publish(std::shared_ptr<const ClientTable> table) { table_.store(std::move(table), std::memory_order_release); }

 private:
  std::atomic<std::shared_ptr<const ClientTable>> table_;
};

}  // namespace signet::auth
