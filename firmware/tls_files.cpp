#include "firmware/tls_files.h"

#include <openssl/evp.h>

#include <fstream>

namespace signet {
namespace {

// A certificate chain, key or CA bundle larger than this is a mistake, not TLS material.
constexpr std::streamoff kMaxFileBytes = 1 << 20;

// Read straight into the string it returns: no stream buffer is left behind holding a key.
Result<std::string> read_file(const std::string& path, const std::string& field) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1;
  if (size < 0 || size > kMaxFileBytes) {
    return make_error(Code::kTls, field + " '" + path + "' cannot be read" + (size > kMaxFileBytes ? " (over 1 MiB)" : ""));
  }
  std::string text(static_cast<std::size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(text.data(), size)) return make_error(Code::kTls, field + " '" + path + "' cannot be read");
  return text;
}

// SHA-256 over the parts, each preceded by its length so that no two lists collide.
std::string digest_of(std::initializer_list<std::string_view> parts) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
  for (std::string_view part : parts) {
    const std::uint64_t size = part.size();
    EVP_DigestUpdate(context, &size, sizeof size);
    EVP_DigestUpdate(context, part.data(), part.size());
  }
  EVP_DigestFinal_ex(context, digest, &length);
  EVP_MD_CTX_free(context);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace

Result<TlsFiles> read_tls_files(const config::Config& config) {
  TlsFiles files;
  auto cert = read_file(config.tls.cert_file, "tls.cert_file");
  if (!cert.ok()) return cert.error();
  files.cert_pem = std::move(*cert);
  if (!config.tls.key_file.empty()) {
    auto key = read_file(config.tls.key_file, "tls.key_file");
    if (!key.ok()) return key.error();
    files.key_pem = SecretString(std::move(*key));
  }
  if (!config.tls.client_ca_file.empty()) {
    auto ca = read_file(config.tls.client_ca_file, "tls.client_ca_file");
    if (!ca.ok()) return ca.error();
    auto trust = http::ClientTrust::from_pem(*ca);
    if (!trust.ok()) return trust.error();
    files.client_trust = std::move(*trust);
  }
  files.identity_digest = digest_of({files.cert_pem, files.key_pem.view(), config.tls.key_uri});
  return files;
}

Result<std::unique_ptr<http::TlsIdentity>> load_tls_identity(const config::Config& config, const TlsFiles& files) {
  if (config.tls.key_uri.empty()) return http::TlsIdentity::from_pem(files.cert_pem, files.key_pem);
  // An empty PIN: the Hsm's login is the process's, and GnuTLS shares it (tls_identity.h).
  return http::TlsIdentity::from_token({config.hsm.module, config.tls.key_uri, files.cert_pem}, "");
}

}  // namespace signet
