#include "firmware/auth/client_table.h"

#include <unordered_map>

namespace signet::auth {

ClientTable::ClientTable(std::vector<config::Client> clients, double rate, const ClientTable* previous)
    : clients_(std::move(clients)), registry_(clients_), limiter_(clients_.size(), rate) {
  if (!previous) return;
  std::unordered_map<std::string_view, std::size_t> before;
  for (std::size_t i = 0; i < previous->clients_.size(); ++i) before.emplace(previous->clients_[i].id, i);
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    if (const auto it = before.find(clients_[i].id); it != before.end()) {
      limiter_.inherit(i, previous->limiter_, it->second);
    }
  }
}

limits::Decision ClientTable::admit(const config::Client& client, limits::RateLimiter::Clock::time_point now) const {
  return limiter_.try_take(index_of(client), now);
}

}  // namespace signet::auth
