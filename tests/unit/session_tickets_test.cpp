// SessionTickets through real GnuTLS handshakes between a client and a server session in this
// process (over a socketpair): a client resumes under the same key, not after the key was
// replaced, and never from a server session that was not enabled (libmicrohttpd's default).
#include "http/session_tickets.h"

#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

namespace signet::http {
namespace {

// A throwaway ECDSA P-256 key and a self-signed certificate: the client does not verify it.
class ServerCredentials {
 public:
  ServerCredentials() {
    gnutls_x509_privkey_init(&key_);
    gnutls_x509_privkey_generate(key_, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    gnutls_x509_crt_init(&cert_);
    gnutls_x509_crt_set_version(cert_, 3);
    const unsigned char serial = 1;
    gnutls_x509_crt_set_serial(cert_, &serial, 1);
    gnutls_x509_crt_set_dn_by_oid(cert_, GNUTLS_OID_X520_COMMON_NAME, 0, "test", 4);
    gnutls_x509_crt_set_issuer_dn_by_oid(cert_, GNUTLS_OID_X520_COMMON_NAME, 0, "test", 4);
    const time_t now = time(nullptr);
    gnutls_x509_crt_set_activation_time(cert_, now - 60);
    gnutls_x509_crt_set_expiration_time(cert_, now + 3600);
    gnutls_x509_crt_set_key(cert_, key_);
    gnutls_x509_crt_sign2(cert_, cert_, key_, GNUTLS_DIG_SHA256, 0);
    gnutls_certificate_allocate_credentials(&creds_);
    ok_ = gnutls_certificate_set_x509_key(creds_, &cert_, 1, key_) >= 0;
  }
  ~ServerCredentials() {
    gnutls_certificate_free_credentials(creds_);
    gnutls_x509_crt_deinit(cert_);
    gnutls_x509_privkey_deinit(key_);
  }
  bool ok() const { return ok_; }
  gnutls_certificate_credentials_t get() const { return creds_; }

 private:
  gnutls_x509_privkey_t key_ = nullptr;
  gnutls_x509_crt_t cert_ = nullptr;
  gnutls_certificate_credentials_t creds_ = nullptr;
  bool ok_ = false;
};

struct Session {
  gnutls_session_t s = nullptr;
  ~Session() {
    if (s) gnutls_deinit(s);
  }
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// One connection; returns whether the client resumed, and leaves in `ticket` the client's
// resumption data after the connection (a TLS 1.3 ticket arrives with the first record).
class Connection {
 public:
  Connection(const std::string& version, gnutls_certificate_credentials_t server_creds,
             gnutls_certificate_credentials_t client_creds) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    server_fd_.fd = fds[0];
    client_fd_.fd = fds[1];
    for (int fd : fds) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    const std::string priority = "NORMAL:-VERS-ALL:+VERS-" + version;
    gnutls_init(&server_.s, GNUTLS_SERVER | GNUTLS_NONBLOCK);
    gnutls_priority_set_direct(server_.s, priority.c_str(), nullptr);
    gnutls_credentials_set(server_.s, GNUTLS_CRD_CERTIFICATE, server_creds);
    gnutls_transport_set_int(server_.s, server_fd_.fd);
    gnutls_init(&client_.s, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
    gnutls_priority_set_direct(client_.s, priority.c_str(), nullptr);
    gnutls_credentials_set(client_.s, GNUTLS_CRD_CERTIFICATE, client_creds);
    gnutls_transport_set_int(client_.s, client_fd_.fd);
  }

  gnutls_session_t server() { return server_.s; }

  // Runs both handshakes to their end, then one byte from server to client.
  bool run(const gnutls_datum_t* offer, gnutls_datum_t* ticket) {
    if (offer) gnutls_session_set_data(client_.s, offer->data, offer->size);
    int server_rv = GNUTLS_E_AGAIN, client_rv = GNUTLS_E_AGAIN;
    for (int round = 0; round < 100 && (server_rv != 0 || client_rv != 0); ++round) {
      if (client_rv != 0) client_rv = gnutls_handshake(client_.s);
      if (server_rv != 0) server_rv = gnutls_handshake(server_.s);
      if (gnutls_error_is_fatal(client_rv) || gnutls_error_is_fatal(server_rv)) break;
    }
    EXPECT_EQ(client_rv, 0) << gnutls_strerror(client_rv);
    EXPECT_EQ(server_rv, 0) << gnutls_strerror(server_rv);
    EXPECT_EQ(gnutls_record_send(server_.s, "x", 1), 1);
    char byte = 0;
    ssize_t got = GNUTLS_E_AGAIN;
    for (int round = 0; round < 100 && got == GNUTLS_E_AGAIN; ++round) got = gnutls_record_recv(client_.s, &byte, 1);
    EXPECT_EQ(got, 1);
    EXPECT_EQ(gnutls_session_get_data2(client_.s, ticket), 0);
    return gnutls_session_is_resumed(client_.s) != 0;
  }

 private:
  Fd server_fd_, client_fd_;
  Session server_, client_;
};

struct Datum {
  gnutls_datum_t d{nullptr, 0};
  ~Datum() { gnutls_free(d.data); }
};

class SessionTicketsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_creds_.ok());
    ASSERT_EQ(gnutls_certificate_allocate_credentials(&client_creds_), 0);
  }
  void TearDown() override { gnutls_certificate_free_credentials(client_creds_); }

  // A connection whose server session `tickets` enabled (none: left as libmicrohttpd leaves it).
  bool connect(SessionTickets* tickets, const gnutls_datum_t* offer, gnutls_datum_t* ticket) {
    Connection connection(GetParam(), server_creds_.get(), client_creds_);
    if (tickets) {
      EXPECT_TRUE(tickets->enable(connection.server()).ok());
    }
    return connection.run(offer, ticket);
  }

  ServerCredentials server_creds_;
  gnutls_certificate_credentials_t client_creds_ = nullptr;
};

TEST_P(SessionTicketsTest, ClientResumesUnderTheSameKey) {
  auto tickets = SessionTickets::create();
  ASSERT_TRUE(tickets.ok());
  Datum first, second;
  EXPECT_FALSE(connect(tickets->get(), nullptr, &first.d));
  EXPECT_TRUE(connect(tickets->get(), &first.d, &second.d));
}

TEST_P(SessionTicketsTest, NoResumptionAfterTheKeyWasReplaced) {
  auto tickets = SessionTickets::create(std::chrono::seconds(0));  // a new key at every enable()
  ASSERT_TRUE(tickets.ok());
  Datum first, second;
  EXPECT_FALSE(connect(tickets->get(), nullptr, &first.d));
  EXPECT_FALSE(connect(tickets->get(), &first.d, &second.d));
}

TEST_P(SessionTicketsTest, NoResumptionWithoutTickets) {
  Datum first, second;
  EXPECT_FALSE(connect(nullptr, nullptr, &first.d));
  EXPECT_FALSE(connect(nullptr, &first.d, &second.d));
}

TEST_P(SessionTicketsTest, AnotherServersTicketIsRefused) {
  auto issuer = SessionTickets::create();
  auto other = SessionTickets::create();
  ASSERT_TRUE(issuer.ok() && other.ok());
  Datum first, second;
  EXPECT_FALSE(connect(issuer->get(), nullptr, &first.d));
  EXPECT_FALSE(connect(other->get(), &first.d, &second.d));
}

INSTANTIATE_TEST_SUITE_P(Versions, SessionTicketsTest, ::testing::Values("TLS1.3", "TLS1.2"),
                         [](const auto& info) { return info.param == "TLS1.3" ? "Tls13" : "Tls12"; });

}  // namespace
}  // namespace signet::http
