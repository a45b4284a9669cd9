#include "tools/signetctl/tls_request.h"

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/pkcs11.h>
#include <gnutls/x509.h>
#include <openssl/rand.h>

#include <cstdio>
#include <ctime>
#include <memory>

namespace signet::ctl {
namespace {

template <class T, void (*Free)(T)>
struct Deleter {
  void operator()(T p) const { Free(p); }
};
using PrivateKey = std::unique_ptr<gnutls_privkey_st, Deleter<gnutls_privkey_t, gnutls_privkey_deinit>>;
using PublicKey = std::unique_ptr<gnutls_pubkey_st, Deleter<gnutls_pubkey_t, gnutls_pubkey_deinit>>;
using Certificate = std::unique_ptr<gnutls_x509_crt_int, Deleter<gnutls_x509_crt_t, gnutls_x509_crt_deinit>>;
using Request = std::unique_ptr<gnutls_x509_crq_int, Deleter<gnutls_x509_crq_t, gnutls_x509_crq_deinit>>;

Error tls_error(const std::string& what, int rv) { return make_error(Code::kTls, what + ": " + gnutls_strerror(rv)); }

gnutls_datum_t datum(const std::string& bytes) {
  return {reinterpret_cast<unsigned char*>(const_cast<char*>(bytes.data())), static_cast<unsigned>(bytes.size())};
}

// GnuTLS must not prompt or be handed a PIN: the process's login is the one it uses.
int refuse_pin(void*, int, const char*, const char*, unsigned, char*, size_t) { return -1; }

Result<PrivateKey> import_token_key(const TokenKeyRef& key) {
  // Manual mode: load only this module, not every module p11-kit knows (http/tls_identity.h).
  int rv = gnutls_pkcs11_init(GNUTLS_PKCS11_FLAG_MANUAL, nullptr);
  if (rv < 0) return make_error(Code::kHsmModule, std::string("gnutls_pkcs11_init failed: ") + gnutls_strerror(rv));
  rv = gnutls_pkcs11_add_provider(key.module_path.c_str(), nullptr);
  if (rv < 0) {
    return make_error(Code::kHsmModule, "GnuTLS cannot load the PKCS#11 module '" + key.module_path + "': " +
                                            gnutls_strerror(rv));
  }
  gnutls_privkey_t raw = nullptr;
  if ((rv = gnutls_privkey_init(&raw)) < 0) return tls_error("gnutls_privkey_init", rv);
  PrivateKey privkey(raw);
  gnutls_privkey_set_pin_function(raw, &refuse_pin, nullptr);
  if ((rv = gnutls_privkey_import_url(raw, key.key_uri.c_str(), 0)) < 0) {
    return tls_error("cannot use the TLS key at '" + key.key_uri + "'", rv);
  }
  return privkey;
}

Result<PublicKey> import_public_point(const TokenKeyRef& key) {
  gnutls_pubkey_t raw = nullptr;
  int rv = gnutls_pubkey_init(&raw);
  if (rv < 0) return tls_error("gnutls_pubkey_init", rv);
  PublicKey pubkey(raw);
  const gnutls_datum_t x = datum(key.ec_x), y = datum(key.ec_y);
  if ((rv = gnutls_pubkey_import_ecc_raw(raw, GNUTLS_ECC_CURVE_SECP256R1, &x, &y)) < 0) {
    return tls_error("the TLS key's public point", rv);
  }
  return pubkey;
}

// One subject alternative name in the form each of crt and crq takes.
struct AltName {
  gnutls_x509_subject_alt_name_t type;
  std::string bytes;  // the DNS name, or the 4 or 16 bytes of an address
};

Result<std::vector<AltName>> alt_names(const TlsSubject& subject) {
  std::vector<AltName> names;
  for (const auto& dns : subject.dns_names) names.push_back({GNUTLS_SAN_DNSNAME, dns});
  for (const auto& ip : subject.ip_addresses) {
    unsigned char bytes[16];
    if (inet_pton(AF_INET, ip.c_str(), bytes) == 1) {
      names.push_back({GNUTLS_SAN_IPADDRESS, std::string(reinterpret_cast<char*>(bytes), 4)});
    } else if (inet_pton(AF_INET6, ip.c_str(), bytes) == 1) {
      names.push_back({GNUTLS_SAN_IPADDRESS, std::string(reinterpret_cast<char*>(bytes), 16)});
    } else {
      return make_error(Code::kInvalidArgument, "'" + ip + "' is not an IP address");
    }
  }
  return names;
}

// `exporter(&datum)` is gnutls_x509_crt_export2 or gnutls_x509_crq_export2 in PEM.
template <class Exporter>
Result<std::string> export_pem(Exporter exporter, const char* what) {
  gnutls_datum_t out{};
  int rv = exporter(&out);
  if (rv < 0) return tls_error(std::string("cannot encode the ") + what, rv);
  std::string pem(reinterpret_cast<char*>(out.data), out.size);
  gnutls_free(out.data);
  return pem;
}

std::string fingerprint(gnutls_x509_crt_t crt) {
  unsigned char digest[32];
  size_t size = sizeof digest;
  if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, digest, &size) < 0) return "";
  std::string text;
  for (size_t i = 0; i < size; ++i) {
    char byte[4];
    std::snprintf(byte, sizeof byte, i ? ":%02X" : "%02X", digest[i]);
    text += byte;
  }
  return text;
}

Result<std::string> self_signed(const TlsSubject& subject, const std::vector<AltName>& names,
                                gnutls_pubkey_t pubkey, gnutls_privkey_t privkey, std::string& fingerprint_out) {
  gnutls_x509_crt_t raw = nullptr;
  int rv = gnutls_x509_crt_init(&raw);
  if (rv < 0) return tls_error("gnutls_x509_crt_init", rv);
  Certificate crt(raw);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return make_error(Code::kInternal, "the random generator failed");
  serial[0] &= 0x7f;  // a positive INTEGER
  const std::time_t now = std::time(nullptr);
  unsigned char key_id[64];
  size_t key_id_size = sizeof key_id;
  const auto& cn = subject.common_name;
  if ((rv = gnutls_x509_crt_set_version(raw, 3)) < 0 || (rv = gnutls_x509_crt_set_serial(raw, serial, sizeof serial)) < 0 ||
      (rv = gnutls_x509_crt_set_activation_time(raw, now - 300)) < 0 ||  // a little clock skew
      (rv = gnutls_x509_crt_set_expiration_time(raw, now + static_cast<std::time_t>(subject.days) * 86400)) < 0 ||
      (rv = gnutls_x509_crt_set_dn_by_oid(raw, GNUTLS_OID_X520_COMMON_NAME, 0, cn.data(), cn.size())) < 0 ||
      (rv = gnutls_x509_crt_set_pubkey(raw, pubkey)) < 0 ||
      (rv = gnutls_x509_crt_set_basic_constraints(raw, 0, -1)) < 0 ||
      (rv = gnutls_x509_crt_set_key_usage(raw, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
      (rv = gnutls_x509_crt_set_key_purpose_oid(raw, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
      (rv = gnutls_pubkey_get_key_id(pubkey, GNUTLS_KEYID_USE_SHA1, key_id, &key_id_size)) < 0 ||
      (rv = gnutls_x509_crt_set_subject_key_id(raw, key_id, key_id_size)) < 0 ||
      (rv = gnutls_x509_crt_set_authority_key_id(raw, key_id, key_id_size)) < 0) {
    return tls_error("cannot build the certificate", rv);
  }
  for (const auto& name : names) {
    rv = gnutls_x509_crt_set_subject_alt_name(raw, name.type, name.bytes.data(), name.bytes.size(), GNUTLS_FSAN_APPEND);
    if (rv < 0) return tls_error("cannot add a subject alternative name to the certificate", rv);
  }
  if ((rv = gnutls_x509_crt_privkey_sign(raw, raw, privkey, GNUTLS_DIG_SHA256, 0)) < 0) {
    return tls_error("the token key cannot sign the certificate", rv);
  }
  fingerprint_out = fingerprint(raw);
  return export_pem([raw](gnutls_datum_t* out) { return gnutls_x509_crt_export2(raw, GNUTLS_X509_FMT_PEM, out); },
                    "certificate");
}

Result<std::string> signing_request(const TlsSubject& subject, const std::vector<AltName>& names,
                                    gnutls_pubkey_t pubkey, gnutls_privkey_t privkey) {
  gnutls_x509_crq_t raw = nullptr;
  int rv = gnutls_x509_crq_init(&raw);
  if (rv < 0) return tls_error("gnutls_x509_crq_init", rv);
  Request crq(raw);
  const auto& cn = subject.common_name;
  if ((rv = gnutls_x509_crq_set_version(raw, 1)) < 0 ||
      (rv = gnutls_x509_crq_set_dn_by_oid(raw, GNUTLS_OID_X520_COMMON_NAME, 0, cn.data(), cn.size())) < 0 ||
      (rv = gnutls_x509_crq_set_pubkey(raw, pubkey)) < 0 ||
      (rv = gnutls_x509_crq_set_basic_constraints(raw, 0, -1)) < 0 ||
      (rv = gnutls_x509_crq_set_key_usage(raw, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
      (rv = gnutls_x509_crq_set_key_purpose_oid(raw, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0) {
    return tls_error("cannot build the certificate request", rv);
  }
  for (const auto& name : names) {
    rv = gnutls_x509_crq_set_subject_alt_name(raw, name.type, name.bytes.data(), name.bytes.size(), GNUTLS_FSAN_APPEND);
    if (rv < 0) return tls_error("cannot add a subject alternative name to the request", rv);
  }
  if ((rv = gnutls_x509_crq_privkey_sign(raw, privkey, GNUTLS_DIG_SHA256, 0)) < 0) {
    return tls_error("the token key cannot sign the certificate request", rv);
  }
  return export_pem([raw](gnutls_datum_t* out) { return gnutls_x509_crq_export2(raw, GNUTLS_X509_FMT_PEM, out); },
                    "certificate request");
}

}  // namespace

Result<TlsRequestFiles> make_certificate_and_request(const TokenKeyRef& key, const TlsSubject& subject) {
  auto names = alt_names(subject);
  if (!names.ok()) return names.error();
  auto privkey = import_token_key(key);
  if (!privkey.ok()) return privkey.error();
  auto pubkey = import_public_point(key);
  if (!pubkey.ok()) return pubkey.error();
  TlsRequestFiles files;
  auto certificate = self_signed(subject, *names, pubkey->get(), privkey->get(), files.sha256_fingerprint);
  if (!certificate.ok()) return certificate.error();
  auto request = signing_request(subject, *names, pubkey->get(), privkey->get());
  if (!request.ok()) return request.error();
  files.certificate_pem = std::move(*certificate);
  files.request_pem = std::move(*request);
  return files;
}

}  // namespace signet::ctl
