#include "hsm/tls_key.h"

#include <openssl/rand.h>

#include "hsm/encoding.h"
#include "hsm/objects.h"
#include "hsm/operations.h"
#include "hsm/token.h"

namespace signet::hsm {
namespace {

constexpr std::size_t kIdSize = 16;
constexpr std::size_t kP256PointSize = 65;  // 0x04 || x || y

// A read-write session of its own for each step; it shares the store's login.
class Session {
 public:
  static Result<Session> open(const Token& token) {
    CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
    CK_RV rv = token.api().C_OpenSession(token.slot(), CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &handle);
    if (rv != CKR_OK) return rv_error("C_OpenSession on the token '" + token.label() + "'", rv);
    return Session(token.api(), handle);
  }
  Session(Session&& other) noexcept : ref_(other.ref_) { other.ref_.handle = CK_INVALID_HANDLE; }
  Session& operator=(Session&&) = delete;
  Session(const Session&) = delete;  // two owners would close it twice
  ~Session() {
    if (ref_.handle != CK_INVALID_HANDLE) ref_.api.C_CloseSession(ref_.handle);
  }
  SessionRef& ref() { return ref_; }

 private:
  Session(const CK_FUNCTION_LIST& api, CK_SESSION_HANDLE handle) : ref_{api, handle} {}
  SessionRef ref_;
};

// The token's word that the private key was born there and never left it in clear.
Status check_evidence(SessionRef& session, CK_OBJECT_HANDLE private_key, std::string_view label) {
  for (CK_ATTRIBUTE_TYPE type : {CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE}) {
    auto value = get_bool(session, private_key, type);
    if (!value.ok()) return value.error();
    if (!*value) {
      return make_error(Code::kInternal, "the token does not vouch for the new TLS key '" + std::string(label) +
                                             "' (CKA_LOCAL, CKA_ALWAYS_SENSITIVE or CKA_NEVER_EXTRACTABLE is false)");
    }
  }
  return ok_status();
}

Result<TlsKey> describe(SessionRef& session, CK_OBJECT_HANDLE private_key, CK_OBJECT_HANDLE public_key,
                        std::string id, std::string_view label) {
  if (Status evidence = check_evidence(session, private_key, label); !evidence.ok()) return evidence.error();
  auto attribute = get_bytes(session, public_key, CKA_EC_POINT);
  if (!attribute.ok()) return attribute.error();
  auto point = unwrap_ec_point(*attribute, kP256PointSize);
  if (!point.ok()) return point.error();
  if ((*point)[0] != '\x04') return make_error(Code::kInternal, "the TLS key's public point is not uncompressed");
  return TlsKey{std::move(id), std::string(label), point->substr(1, 32), point->substr(33, 32)};
}

Status destroy_pair(SessionRef& session, std::string_view id) {
  Template match;
  match.add_bytes(CKA_ID, id);
  return destroy_matching(session, match);
}

}  // namespace

struct TlsKeyStore::State {
  std::unique_ptr<Token> token;
};

TlsKeyStore::TlsKeyStore(std::unique_ptr<State> state) : state_(std::move(state)) {}
TlsKeyStore::~TlsKeyStore() = default;

Result<std::unique_ptr<TlsKeyStore>> TlsKeyStore::open(Options options) {
  auto module = Module::load(options.module_path);
  if (!module.ok()) {
    options.pin.wipe();
    return module.error();
  }
  auto token = Token::open(std::move(*module), TokenSelector(options.token_label, options.token_serial, options.slot_id), options.pin);
  if (!token.ok()) return token.error();
  auto state = std::make_unique<State>();
  state->token = std::move(*token);
  return std::unique_ptr<TlsKeyStore>(new TlsKeyStore(std::move(state)));
}

Result<TlsKey> TlsKeyStore::generate(std::string_view label) {
  auto session = Session::open(*state_->token);
  if (!session.ok()) return session.error();
  SessionRef& s = session->ref();
  unsigned char raw_id[kIdSize];
  if (RAND_bytes(raw_id, sizeof raw_id) != 1) return make_error(Code::kInternal, "the random generator failed");
  std::string id(reinterpret_cast<const char*>(raw_id), sizeof raw_id);

  Template public_template;
  Template private_template;
  fill_ec_public_template(public_template, id, label, p256_params());
  // ECDSA alone: GnuTLS hashes, the token signs; TLS uses ephemeral ECDHE, never this key.
  fill_private_key_template(private_template, CKM_ECDSA, id, label);
  CK_MECHANISM mechanism{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE private_key = CK_INVALID_HANDLE;
  CK_RV rv = s.api.C_GenerateKeyPair(s.handle, &mechanism, public_template.data(), public_template.size(),
                                     private_template.data(), private_template.size(), &public_key, &private_key);
  if (rv != CKR_OK) return s.fail("C_GenerateKeyPair (TLS key)", rv);
  auto key = describe(s, private_key, public_key, id, label);
  if (!key.ok()) (void)destroy_pair(s, id);  // the first error is the one to report
  return key;
}

Status TlsKeyStore::destroy(std::string_view id) {
  auto session = Session::open(*state_->token);
  if (!session.ok()) return session.error();
  return destroy_pair(session->ref(), id);
}

}  // namespace signet::hsm
