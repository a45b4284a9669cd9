// Test helper: a tiny HTTPS server (OpenSSL, one thread, 127.0.0.1, a self-signed certificate for
// "localhost" made at start) that serves one canned JWKS answer with configurable status,
// Cache-Control and ETag, answers 304 to a matching If-None-Match, and counts requests.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace signet::verify::testing {

class TlsJwksServer {
 public:
  struct Answer {
    int status = 200;
    std::string body;
    std::string etag;           // empty: no ETag header
    std::string cache_control;  // empty: no Cache-Control header
  };

  TlsJwksServer();
  ~TlsJwksServer();
  TlsJwksServer(const TlsJwksServer&) = delete;
  TlsJwksServer& operator=(const TlsJwksServer&) = delete;

  std::string url() const;           // https://localhost:<port>/jwks.json
  const std::string& ca_file() const { return ca_file_; }  // the server's certificate, PEM
  void set_answer(Answer answer);
  int requests() const { return requests_.load(); }
  int conditional_requests() const { return conditional_.load(); }
  int not_modified_sent() const { return not_modified_.load(); }
  void stop();  // closes the listener: later connections are refused

 private:
  void serve();
  void handle(int fd);

  void* ctx_ = nullptr;  // SSL_CTX*
  int listen_fd_ = -1;
  int port_ = 0;
  std::string ca_file_;
  std::mutex mutex_;
  Answer answer_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0}, conditional_{0}, not_modified_{0};
  std::thread thread_;
};

}  // namespace signet::verify::testing
