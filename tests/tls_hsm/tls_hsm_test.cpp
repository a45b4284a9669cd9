// The TLS server key in the token: a real libmicrohttpd HTTPS daemon whose certificate callback
// hands out a TlsIdentity, a real libcurl client, and the Hsm on the same SoftHSM2 token in the
// same process, as signetd runs them. Each case needs a process of its own (SoftHSM reads
// SOFTHSM2_CONF once per C_Initialize and GnuTLS never finalizes it): ctest runs them so.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "hsm/hsm.h"
#include "http/tls_identity.h"
#include "tests/support/softhsm_token.h"

#if defined(__SANITIZE_ADDRESS__)
// SoftHSM 2.6.1 and OpenSC's pkcs11-spy leak small objects of their own (see tests/hsm).
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libsofthsm2.so\nleak:pkcs11-spy.so\n";
}
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }
#endif

namespace signet::http {
namespace {

using signet::testing::run_program;
using signet::testing::SoftHsmToken;

constexpr char kPin[] = "1234";
constexpr char kKeyUri[] = "pkcs11:token=signet;object=tls;type=private";

// A second case in one process would meet the first case's token: skip rather than mislead.
bool first_case_in_process() {
  static bool used = false;
  return !std::exchange(used, true);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// An EC P-256 key pair born in the token (pkcs11-tool makes it sensitive and never
// extractable) and a self-signed certificate that certtool signs inside the token.
std::string make_tls_key_and_cert(const SoftHsmToken& token, const std::string& label) {
  std::string out;
  int rc = run_program({"pkcs11-tool", "--module", token.module_path(), "--token-label", "signet",
                        "--login", "--pin", kPin, "--keypairgen", "--key-type", "EC:prime256v1",
                        "--label", label, "--id", label == "tls" ? "01" : "02"}, &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("sensitive, always sensitive, never extractable, local"), std::string::npos)
      << out;
  std::string tmpl = token.dir() + "/cert.tmpl", cert = token.dir() + "/" + label + ".pem";
  std::ofstream(tmpl) << "cn = \"signet test\"\ndns_name = \"localhost\"\nip_address = "
                         "\"127.0.0.1\"\nexpiration_days = 2\ntls_www_server\nsigning_key\n";
  rc = run_program({"certtool", "--generate-self-signed", "--provider", token.module_path(),
                    "--load-privkey", "pkcs11:token=signet;object=" + label +
                                          ";type=private;pin-value=" + kPin,
                    "--load-pubkey", "pkcs11:token=signet;object=" + label + ";type=public",
                    "--template", tmpl, "--outfile", cert}, &out);
  EXPECT_EQ(rc, 0) << out;
  return read_file(cert);
}

MHD_Result answer_ok(void*, MHD_Connection* connection, const char*, const char*, const char*,
                     const char*, size_t*, void**) {
  static char body[] = "ok";
  MHD_Response* response = MHD_create_response_from_buffer(2, body, MHD_RESPMEM_PERSISTENT);
  MHD_Result result = MHD_queue_response(connection, MHD_HTTP_OK, response);
  MHD_destroy_response(response);
  return result;
}

struct Daemon {
  MHD_Daemon* daemon = nullptr;
  unsigned port = 0;
  ~Daemon() { if (daemon != nullptr) MHD_stop_daemon(daemon); }
};

// As http/server.cpp runs it: a pool of threads, so that handshakes sign concurrently.
void start_https(Daemon& d) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  d.daemon = MHD_start_daemon(
      MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, nullptr, nullptr,
      &answer_ok, nullptr, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_THREAD_POOL_SIZE, 4u,
      MHD_OPTION_HTTPS_CERT_CALLBACK, &TlsIdentity::certificate_callback,
      MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", MHD_OPTION_END);
  ASSERT_NE(d.daemon, nullptr);
  d.port = MHD_get_daemon_info(d.daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
}

size_t count_of(const std::string& text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct Reply {
  CURLcode code = CURLE_OK;
  std::string error;
  long status = 0;
  std::string body;
  std::string server_cert;  // PEM, as the client received it
};

Reply https_get(unsigned port, const std::string& ca_file, bool tls12) {
  Reply reply;
  char error[CURL_ERROR_SIZE] = {};
  CURL* curl = curl_easy_init();
  std::string url = "https://127.0.0.1:" + std::to_string(port) + "/";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
  long version = tls12 ? long{CURL_SSLVERSION_TLSv1_2} | long{CURL_SSLVERSION_MAX_TLSv1_2}
                       : long{CURL_SSLVERSION_TLSv1_3};
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, version);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  reply.code = curl_easy_perform(curl);
  reply.error = error;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_CERTINFO, &info) == CURLE_OK && info != nullptr &&
      info->num_of_certs > 0) {
    for (curl_slist* field = info->certinfo[0]; field != nullptr; field = field->next) {
      if (std::string_view(field->data).rfind("Cert:", 0) == 0) reply.server_cert = field->data + 5;
    }
  }
  curl_easy_cleanup(curl);
  return reply;
}

std::string strip_space(std::string s) {
  std::erase_if(s, [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
  return s;
}

class TlsHsmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!first_case_in_process()) GTEST_SKIP() << "one case per process; run through ctest";
    auto token = SoftHsmToken::create(SoftHsmToken::Config{.label = "signet", .user_pin = kPin});
    ASSERT_TRUE(token.ok()) << token.error().message;
    token_.emplace(std::move(token).value());
    cert_pem_ = make_tls_key_and_cert(*token_, "tls");
    cert_file_ = token_->dir() + "/tls.pem";
    ASSERT_FALSE(cert_pem_.empty());
  }

  // As signetd opens it: module, token label and PIN; the PIN is wiped by open().
  std::unique_ptr<hsm::Hsm> open_hsm(const char* pin) {
    auto opened = hsm::Hsm::open(hsm::Options{.module_path = token_->module_path(),
                                              .token_label = "signet", .pin = SecretString(pin)});
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  Result<std::unique_ptr<TlsIdentity>> load_key(std::string_view pin, const char* module = nullptr) {
    return TlsIdentity::from_token({.module_path = module != nullptr ? module : token_->module_path(),
                            .key_uri = kKeyUri, .cert_chain_pem = cert_pem_}, pin);
  }

  std::optional<SoftHsmToken> token_;
  std::string cert_pem_, cert_file_;
};

// The daemon's order: Hsm first (it logs in and wipes the PIN), then the TLS key with no PIN at
// all, because GnuTLS joins the process's login. Both load the module through OpenSC's
// pkcs11-spy, whose trace shows who initializes, logs in and finalizes.
TEST_F(TlsHsmTest, HsmFirstThenTlsKeyServesHttpsFromTheToken) {
  std::string trace = token_->dir() + "/spy.log";
  setenv("PKCS11SPY", token_->module_path(), 1);
  setenv("PKCS11SPY_OUTPUT", trace.c_str(), 1);
  auto opened = hsm::Hsm::open({.module_path = SIGNET_PKCS11_SPY, .token_label = "signet",
                                .pin = SecretString(kPin)});
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto hsm = std::move(opened).value();
  auto signet_key = hsm->generate_key(hsm::SignScheme::kEcdsaP256Sha256, 0);
  ASSERT_TRUE(signet_key.ok()) << signet_key.error().message;

  auto key = load_key("", SIGNET_PKCS11_SPY);
  ASSERT_TRUE(key.ok()) << key.error().message;
  TlsIdentity::serve(std::move(key).value());
  Daemon daemon;
  ASSERT_NO_FATAL_FAILURE(start_https(daemon));

  for (bool tls12 : {false, true}) {
    Reply reply = https_get(daemon.port, cert_file_, tls12);
    ASSERT_EQ(reply.code, CURLE_OK) << (tls12 ? "TLS 1.2: " : "TLS 1.3: ") << reply.error;
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, "ok");
    EXPECT_EQ(strip_space(reply.server_cert), strip_space(cert_pem_));
  }
  // Concurrent handshakes share the one token key (GnuTLS signs in its own session).
  std::vector<std::thread> clients;
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        Reply reply = https_get(daemon.port, cert_file_, (t + i) % 2 == 0);
        if (reply.code == CURLE_OK && reply.status == 200) ++good;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(good.load(), 40);

  // Signet's own signing is untouched by GnuTLS having loaded the module.
  unsigned char signature[512];
  auto signed_len = hsm->sign(signet_key->ref, "header.payload", signature, sizeof signature);
  ASSERT_TRUE(signed_len.ok()) << signed_len.error().message;
  EXPECT_EQ(*signed_len, 64u);
  EXPECT_TRUE(hsm->check_health().ok());

  // One real initialization (the Hsm's), GnuTLS's answered ALREADY_INITIALIZED; one login;
  // and nobody finalized behind the Hsm.
  std::string log = read_file(trace);
  EXPECT_EQ(count_of(log, ": C_Initialize"), 2u);
  EXPECT_EQ(count_of(log, "CKR_CRYPTOKI_ALREADY_INITIALIZED"), 1u);
  EXPECT_EQ(count_of(log, ": C_Login"), 1u);
  EXPECT_EQ(count_of(log, ": C_Finalize"), 0u);
}

// A wrong PIN costs exactly one C_Login (counted by OpenSC's pkcs11-spy) and a clear error.
TEST_F(TlsHsmTest, WrongPinIsTriedOnceAndNamed) {
  std::string trace = token_->dir() + "/spy.log";
  setenv("PKCS11SPY", token_->module_path(), 1);
  setenv("PKCS11SPY_OUTPUT", trace.c_str(), 1);
  auto key = load_key("0000", SIGNET_PKCS11_SPY);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, Code::kHsmPin);
  EXPECT_NE(key.error().message.find("refused the PIN, which is not tried again"),
            std::string::npos) << key.error().message;
  std::string log = read_file(trace);
  EXPECT_EQ(count_of(log, ": C_Login"), 1u) << log;
  EXPECT_NE(log.find("CKR_PIN_INCORRECT"), std::string::npos);
}

TEST_F(TlsHsmTest, NoPinAndNoLoginIsNamed) {
  auto key = load_key("");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, Code::kHsmPin);
  EXPECT_NE(key.error().message.find("no PIN was given"), std::string::npos) << key.error().message;
}

// Why the Hsm goes first: when GnuTLS logs in first, Hsm::open's C_Login answers
// CKR_USER_ALREADY_LOGGED_IN without looking at the PIN, so a wrong one is not noticed.
TEST_F(TlsHsmTest, TlsKeyFirstMakesHsmOpenAcceptAWrongPin) {
  auto key = load_key(kPin);
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto hsm = hsm::Hsm::open({.module_path = token_->module_path(), .token_label = "signet",
                             .pin = SecretString("0000")});
  EXPECT_TRUE(hsm.ok()) << "this release of the module now checks the PIN again: "
                        << hsm.error().message;
}

// Why the Hsm must outlive the key: closing it logs out and finalizes the module, and GnuTLS
// keeps its stale object handle, so every later handshake fails.
TEST_F(TlsHsmTest, ClosingTheHsmBreaksTheTlsKey) {
  auto hsm = open_hsm(kPin);
  ASSERT_NE(hsm, nullptr);
  auto key = load_key("");
  ASSERT_TRUE(key.ok()) << key.error().message;
  gnutls_privkey_t privkey = key.value()->privkey();
  TlsIdentity::serve(std::move(key).value());
  Daemon daemon;
  ASSERT_NO_FATAL_FAILURE(start_https(daemon));
  ASSERT_EQ(https_get(daemon.port, cert_file_, false).code, CURLE_OK);

  hsm.reset();
  gnutls_datum_t data{reinterpret_cast<unsigned char*>(const_cast<char*>("x")), 1}, sig{};
  EXPECT_EQ(gnutls_privkey_sign_data2(privkey, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &sig),
            GNUTLS_E_PKCS11_ERROR);  // C_SignInit: CKR_CRYPTOKI_NOT_INITIALIZED
  Reply reply = https_get(daemon.port, cert_file_, false);
  EXPECT_NE(reply.code, CURLE_OK) << "a handshake succeeded with the token finalized";
}

TEST_F(TlsHsmTest, KeyOfAnotherCertificateIsRefused) {
  cert_pem_ = make_tls_key_and_cert(*token_, "other");
  auto key = load_key(kPin);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, Code::kTls);
  EXPECT_NE(key.error().message.find("is not the key of the certificate's leaf"),
            std::string::npos) << key.error().message;
}

TEST(TlsHsmUri, PinInTheUriIsRefused) {
  auto key = TlsIdentity::from_token({.module_path = "/nonexistent.so",
                              .key_uri = std::string(kKeyUri) + ";pin-value=1234",
                              .cert_chain_pem = ""}, "");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, Code::kConfig);
  EXPECT_EQ(key.error().message, "tls.key_uri must not carry pin-value=; the PIN comes from the PIN file");
}

}  // namespace
}  // namespace signet::http
