#include "tests/verify/tls_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace signet::verify::testing {
namespace {

// A self-signed certificate for localhost and 127.0.0.1, valid for a day.
X509* make_certificate(EVP_PKEY* key) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());
  return cert;
}

std::string header_value(const std::string& request, const std::string& lower_name) {
  std::string lower = request;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::size_t at = lower.find("\r\n" + lower_name + ":");
  if (at == std::string::npos) return {};
  std::size_t start = at + 3 + lower_name.size();
  const std::size_t end = request.find("\r\n", start);
  while (start < end && request[start] == ' ') ++start;
  return request.substr(start, end - start);
}

}  // namespace

TlsJwksServer::TlsJwksServer() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* cert = make_certificate(key);
  char path[] = "/tmp/signet-jwks-ca-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp");
  FILE* out = fdopen(fd, "w");
  PEM_write_X509(out, cert);
  fclose(out);
  ca_file_ = path;

  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_use_certificate(ctx, cert);
  SSL_CTX_use_PrivateKey(ctx, key);
  ctx_ = ctx;
  X509_free(cert);
  EVP_PKEY_free(key);

  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("bind/listen");
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

TlsJwksServer::~TlsJwksServer() {
  stop();
  SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
  std::remove(ca_file_.c_str());
}

std::string TlsJwksServer::url() const { return "https://localhost:" + std::to_string(port_) + "/jwks.json"; }

void TlsJwksServer::set_answer(Answer answer) {
  std::lock_guard lock(mutex_);
  answer_ = std::move(answer);
}

void TlsJwksServer::stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
}

void TlsJwksServer::serve() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    const int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    handle(fd);
    close(fd);
  }
}

void TlsJwksServer::handle(int fd) {
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx_));
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) == 1) {
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    ++requests_;
    Answer answer;
    {
      std::lock_guard lock(mutex_);
      answer = answer_;
    }
    const std::string if_none_match = header_value(request, "if-none-match");
    if (!if_none_match.empty()) ++conditional_;
    std::string body = answer.body;
    int status = answer.status;
    if (status == 200 && !answer.etag.empty() && if_none_match == answer.etag) {
      status = 304;
      body.clear();
      ++not_modified_;
    }
    std::string response = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : status == 304 ? " Not Modified" : " Error") +
                           "\r\nContent-Type: application/jwk-set+json\r\nConnection: close\r\n";
    if (!answer.etag.empty()) response += "ETag: " + answer.etag + "\r\n";
    if (!answer.cache_control.empty()) response += "Cache-Control: " + answer.cache_control + "\r\n";
    if (status != 304) response += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    response += "\r\n" + body;
    SSL_write(ssl, response.data(), static_cast<int>(response.size()));
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  ERR_clear_error();
}

}  // namespace signet::verify::testing
