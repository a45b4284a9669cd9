#include "config/config.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/hex.h"
#include "config/pkcs11_uri.h"
#include "base/strict_json.h"

namespace signet::config {
namespace {

using Json = nlohmann::ordered_json;

// Thrown inside this file only, turned into a Result at its edge: the walk over the document
// reads better without an error check after every field.
struct FieldError {
  std::string field;
  std::string why;
};

constexpr std::size_t kMaxConfigBytes = 1 << 20;

// Walks one JSON object, remembering which members were read so that the rest are reported
// as unknown.
class ObjectReader {
 public:
  ObjectReader(const Json& value, std::string path) : path_(std::move(path)) {
    if (!value.is_object()) throw FieldError{path_.empty() ? "(top level)" : path_, "must be a JSON object"};
    object_ = &value;
  }

  const Json* find(std::string_view key) {
    seen_.insert(std::string(key));
    const auto it = object_->find(std::string(key));
    if (it == object_->end()) return nullptr;
    return &*it;
  }

  std::string field(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  std::optional<std::string> string(std::string_view key) {
    const Json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_string() || v->get_ref<const std::string&>().empty()) {
      throw FieldError{field(key), "must be a non-empty string"};
    }
    return v->get<std::string>();
  }

  std::string required_string(std::string_view key) {
    auto v = string(key);
    if (!v) throw FieldError{field(key), "is required"};
    return *v;
  }

  std::optional<std::uint64_t> number(std::string_view key, std::uint64_t min, std::uint64_t max) {
    const Json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number_unsigned() || v->get<std::uint64_t>() < min || v->get<std::uint64_t>() > max) {
      throw FieldError{field(key), "must be a whole number from " + std::to_string(min) + " to " +
                                       std::to_string(max)};
    }
    return v->get<std::uint64_t>();
  }

  std::optional<bool> boolean(std::string_view key) {
    const Json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) throw FieldError{field(key), "must be true or false"};
    return v->get<bool>();
  }

  std::optional<Seconds> duration(std::string_view key, Zero zero = Zero::kRefused) {
    const Json* v = find(key);
    if (!v) return std::nullopt;
    const auto d = v->is_string() ? parse_duration(v->get_ref<const std::string&>(), Zero::kAllowed) : std::nullopt;
    if (!d) throw FieldError{field(key), "must be a duration such as \"90s\", \"5m\", \"1h\" or \"30d\""};
    if (*d == Seconds(0) && zero == Zero::kRefused) throw FieldError{field(key), "must be longer than 0s"};
    return d;
  }

  std::vector<std::string> strings(std::string_view key) {
    const Json* v = find(key);
    if (!v) return {};
    if (!v->is_array()) throw FieldError{field(key), "must be an array of strings"};
    std::vector<std::string> out;
    for (const auto& item : *v) {
      if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
        throw FieldError{field(key), "must be an array of non-empty strings"};
      }
      if (std::find(out.begin(), out.end(), item.get<std::string>()) != out.end()) {
        throw FieldError{field(key), "names \"" + item.get<std::string>() + "\" twice"};
      }
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  // Reports the first member that nothing asked for.
  void finish() const {
    for (const auto& [key, value] : object_->items()) {
      if (!seen_.count(key)) throw FieldError{field(key), "is not a known setting"};
    }
  }

 private:
  const Json* object_ = nullptr;
  std::string path_;
  std::set<std::string> seen_;
};

std::string resolve(const std::filesystem::path& base, const std::string& p) {
  const std::filesystem::path path(p);
  return path.is_absolute() ? p : (base / path).lexically_normal().string();
}

void read_listen(ObjectReader& top, Config& config) {
  const Json* v = top.find("listen");
  if (!v) return;
  ObjectReader r(*v, "listen");
  if (auto a = r.string("address")) config.listen.address = *a;
  if (auto p = r.number("port", 1, 65535)) config.listen.port = static_cast<std::uint16_t>(*p);
  r.finish();
}

void read_tls(ObjectReader& top, Config& config, const std::filesystem::path& base) {
  const Json* v = top.find("tls");
  if (!v) throw FieldError{"tls", "is required (cert_file, and key_file or key_uri)"};
  ObjectReader r(*v, "tls");
  config.tls.cert_file = resolve(base, r.required_string("cert_file"));
  if (auto file = r.string("key_file")) config.tls.key_file = resolve(base, *file);
  if (auto uri = r.string("key_uri")) config.tls.key_uri = *uri;
  if (config.tls.key_file.empty() == config.tls.key_uri.empty()) {
    throw FieldError{"tls.key_file", "exactly one of tls.key_file and tls.key_uri (a PKCS#11 URI) must be set"};
  }
  if (!config.tls.key_uri.empty() && config.tls.key_uri.rfind("pkcs11:", 0) != 0) {
    throw FieldError{"tls.key_uri", "must be a PKCS#11 URI (pkcs11:...)"};
  }
  if (auto ca = r.string("client_ca_file")) config.tls.client_ca_file = resolve(base, *ca);
  r.finish();
}

// systemd hands a unit its credentials as files in $CREDENTIALS_DIRECTORY (LoadCredential=),
// on a private mount that only the service user can read.
std::string credential_path(const std::string& name) {
  if (name.find('/') != std::string::npos || name == "." || name == "..") {
    throw FieldError{"hsm.pin_credential", "must be a credential name, not a path"};
  }
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (dir == nullptr || *dir != '/') {
    throw FieldError{"hsm.pin_credential", "needs $CREDENTIALS_DIRECTORY: start signetd from its systemd unit "
                                           "(LoadCredential=" + name + ":...)"};
  }
  return (std::filesystem::path(dir) / name).string();
}

void read_hsm(ObjectReader& top, Config& config, const std::filesystem::path& base) {
  const Json* v = top.find("hsm");
  if (!v) throw FieldError{"hsm", "is required (module, token_label or uri, and pin_file, pin_env or pin_credential)"};
  ObjectReader r(*v, "hsm");
  // The token: by label, or by an RFC 7512 URI that may also select by serial or slot and name
  // the module (config/pkcs11_uri.h).
  const auto label = r.string("token_label");
  const auto uri = r.string("uri");
  if (label.has_value() == uri.has_value()) {
    throw FieldError{"hsm.token_label", "exactly one of hsm.token_label and hsm.uri (a PKCS#11 URI) must be set"};
  }
  std::string module_path;
  if (uri) {
    auto parsed = parse_pkcs11_uri(*uri);
    auto selection = parsed.ok() ? token_selection(*parsed) : Result<TokenSelection>(parsed.error());
    if (!selection.ok()) throw FieldError{"hsm.uri", selection.error().message};
    config.hsm.uri = *uri;
    config.hsm.token_label = selection->label;
    config.hsm.token_serial = selection->serial;
    config.hsm.slot_id = selection->slot_id;
    module_path = selection->module_path;
  } else {
    config.hsm.token_label = *label;
    if (config.hsm.token_label.size() > 32) throw FieldError{"hsm.token_label", "is longer than 32 characters"};
  }
  const auto module = r.string("module");
  if (module && !module_path.empty()) {
    throw FieldError{"hsm.module", "is given twice: here and as the module-path of hsm.uri; keep one"};
  }
  if (!module && module_path.empty()) throw FieldError{"hsm.module", "is required (or module-path in hsm.uri)"};
  config.hsm.module = module ? *module : module_path;
  if (auto f = r.string("pin_file")) config.hsm.pin_file = resolve(base, *f);
  if (auto e = r.string("pin_env")) config.hsm.pin_env = *e;
  if (auto c = r.string("pin_credential")) config.hsm.pin_credential = *c;
  const int sources = !config.hsm.pin_file.empty() + !config.hsm.pin_env.empty() + !config.hsm.pin_credential.empty();
  if (sources != 1) {
    throw FieldError{"hsm.pin_file", "exactly one of hsm.pin_file, hsm.pin_env and hsm.pin_credential must be set"};
  }
  if (!config.hsm.pin_credential.empty()) config.hsm.pin_file = credential_path(config.hsm.pin_credential);
  r.finish();
}

void read_keys(ObjectReader& top, Config& config) {
  const Json* v = top.find("keys");
  if (!v) return;
  ObjectReader r(*v, "keys");
  if (auto a = r.string("algorithm")) {
    if (*a != "RS256" && *a != "PS256" && *a != "ES256" && *a != "EdDSA") {
      throw FieldError{"keys.algorithm", "must be one of RS256, PS256, ES256, EdDSA"};
    }
    config.keys.algorithm = *a;
  }
  if (auto b = r.number("rsa_bits", 2048, 4096)) {
    if (*b % 1024) throw FieldError{"keys.rsa_bits", "must be 2048, 3072 or 4096"};
    config.keys.rsa_bits = static_cast<unsigned>(*b);
  }
  if (auto d = r.duration("rotate_every")) config.keys.rotate_every = *d;
  if (auto n = r.number("max_tokens_per_key", 0, UINT64_MAX)) config.keys.max_tokens_per_key = *n;
  if (auto d = r.duration("prepublish", Zero::kAllowed)) config.keys.prepublish = *d;
  if (auto d = r.duration("retire_grace", Zero::kAllowed)) config.keys.retire_grace = *d;
  if (auto n = r.number("max_published", 2, 16)) config.keys.max_published = *n;
  if (auto d = r.duration("refresh_interval")) {
    if (*d > Seconds(5)) throw FieldError{"keys.refresh_interval", "must be at most 5s"};
    config.keys.refresh_interval = *d;
  }
  r.finish();
}

void read_single_duration(ObjectReader& top, std::string_view section, std::string_view key, Zero zero, Seconds& out) {
  const Json* v = top.find(section);
  if (!v) return;
  ObjectReader r(*v, std::string(section));
  if (auto d = r.duration(key, zero)) out = *d;
  r.finish();
}

void read_profiles(ObjectReader& top, Config& config) {
  const Json* v = top.find("profiles");
  if (!v || !v->is_object() || v->empty()) throw FieldError{"profiles", "must name at least one profile"};
  for (const auto& [name, value] : v->items()) {
    ObjectReader r(value, "profiles." + name);
    Profile p;
    p.name = name;
    auto ttl = r.duration("ttl");
    if (!ttl) throw FieldError{r.field("ttl"), "is required"};
    p.ttl = *ttl;
    p.audience = r.string("audience");
    if (auto typ = r.string("typ")) p.typ = *typ;
    r.finish();
    config.profiles.push_back(std::move(p));
  }
}

void check_audience_patterns(const std::string& field, const std::vector<std::string>& audiences) {
  for (const auto& a : audiences) {
    const auto star = a.find('*');
    if (star != std::string::npos && star != a.size() - 1) {
      throw FieldError{field, "\"" + a + "\": '*' may only end an audience pattern"};
    }
  }
}

Client read_client(const Json& value, std::size_t index, const Config& config) {
  ObjectReader r(value, "clients[" + std::to_string(index) + "]");
  Client c;
  c.id = r.required_string("id");
  if (auto hash_hex = r.string("api_key_sha256")) {
    auto hash = hash_hex->size() == 64 ? hex::decode(*hash_hex) : std::nullopt;
    if (!hash) throw FieldError{r.field("api_key_sha256"), "must be 64 hex digits (signetctl hash-secret)"};
    c.api_key_sha256 = *hash;
  }
  if (auto subject = r.string("cert_subject")) {
    if (config.tls.client_ca_file.empty()) throw FieldError{r.field("cert_subject"), "needs tls.client_ca_file (mTLS)"};
    c.cert_subject = *subject;
  }
  if (c.api_key_sha256.empty() && c.cert_subject.empty()) {
    throw FieldError{r.field("api_key_sha256"), "or cert_subject is required: a client must be able to prove who it is"};
  }
  c.profiles = r.strings("profiles");
  for (const auto& p : c.profiles) {
    if (!config.find_profile(p)) throw FieldError{r.field("profiles"), "names an unknown profile \"" + p + "\""};
  }
  c.audiences = r.strings("audiences");
  check_audience_patterns(r.field("audiences"), c.audiences);
  c.max_ttl = r.duration("max_ttl");
  c.claims = r.strings("claims");
  for (const auto& claim : c.claims) {
    if (is_reserved_claim(claim)) {
      throw FieldError{r.field("claims"), "\"" + claim + "\" is set by Signet and cannot be allowed"};
    }
  }
  c.admin = r.boolean("admin").value_or(false);
  if (c.profiles.empty() && !c.admin) throw FieldError{r.field("profiles"), "must name at least one profile"};
  r.finish();
  return c;
}

void read_clients(ObjectReader& top, Config& config) {
  const Json* v = top.find("clients");
  if (!v || !v->is_array()) throw FieldError{"clients", "must be an array of clients"};
  for (std::size_t i = 0; i < v->size(); ++i) {
    Client c = read_client((*v)[i], i, config);
    for (const auto& other : config.clients) {
      if (other.id == c.id) throw FieldError{"clients[" + std::to_string(i) + "].id", "repeats \"" + c.id + "\""};
      if (!c.api_key_sha256.empty() && other.api_key_sha256 == c.api_key_sha256) {
        throw FieldError{"clients[" + std::to_string(i) + "].api_key_sha256", "is the same as client \"" + other.id + "\"'s"};
      }
      if (!c.cert_subject.empty() && other.cert_subject == c.cert_subject) {
        throw FieldError{"clients[" + std::to_string(i) + "].cert_subject", "is the same as client \"" + other.id + "\"'s"};
      }
    }
    config.clients.push_back(std::move(c));
  }
}

// What one address may hold and how long a connection may take: see config.h.
void read_connection_limits(ObjectReader& r, Limits& limits) {
  if (auto n = r.number("max_connections_per_address", 0, 65536)) {
    if (*n >= limits.max_connections) {
      throw FieldError{r.field("max_connections_per_address"),
                       "must be less than limits.max_connections (one address must not hold them all), or 0"};
    }
    limits.max_connections_per_address = static_cast<unsigned>(*n);
  } else {
    limits.max_connections_per_address = std::min(limits.max_connections_per_address, limits.max_connections / 2);
  }
  // Capped so that a slow client cannot hold a connection for long, whatever the setting.
  const auto at_most = [&r](std::string_view key, Seconds value, Seconds cap) {
    if (value > cap) throw FieldError{r.field(key), "must be at most " + std::to_string(cap.count()) + "s"};
    return value;
  };
  if (auto d = r.duration("request_timeout")) limits.request_timeout = at_most("request_timeout", *d, Seconds(300));
  if (auto d = r.duration("idle_timeout")) limits.idle_timeout = at_most("idle_timeout", *d, Seconds(3600));
  if (auto n = r.number("auth_failures_per_address", 0, 1000000)) limits.auth_failures_per_address = static_cast<unsigned>(*n);
  if (auto d = r.duration("max_auth_backoff")) limits.max_auth_backoff = at_most("max_auth_backoff", *d, Seconds(86400));
}

void read_limits(ObjectReader& top, Config& config) {
  const Json* v = top.find("limits");
  if (!v) {
    config.limits.max_connections_per_address =
        std::min(config.limits.max_connections_per_address, config.limits.max_connections / 2);
    return;
  }
  ObjectReader r(*v, "limits");
  if (auto b = r.number("max_body_bytes", 256, 1 << 20)) config.limits.max_body_bytes = *b;
  if (auto c = r.number("max_connections", 1, 65536)) config.limits.max_connections = static_cast<unsigned>(*c);
  read_connection_limits(r, config.limits);
  if (auto q = r.number("requests_per_second_per_client", 0, 1000000)) {
    config.limits.requests_per_second_per_client = static_cast<double>(*q);
  }
  // Concurrency 0: as many as the HSM's sessions allow (signing_gate.h).
  // A queue of 0 is allowed: refuse at once when every signing slot is busy. The wait is capped
  // at 10 s: the queue is there to bound latency, and clients commonly give up after 30 s.
  if (auto n = r.number("max_signing_concurrency", 0, 1024)) config.limits.max_signing_concurrency = *n;
  if (auto n = r.number("max_signing_queue", 0, 65536)) config.limits.max_signing_queue = *n;
  if (auto w = r.number("max_signing_wait_ms", 1, 10000)) config.limits.max_signing_wait_ms = static_cast<unsigned>(*w);
  r.finish();
}

}  // namespace

const Profile* Config::find_profile(std::string_view name) const {
  for (const auto& p : profiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool is_reserved_claim(std::string_view name) {
  // client_id and scope: what an RFC 9068 access token says about its grant (access_token.h).
  static constexpr std::array kReserved = {"iss", "sub", "aud", "iat", "nbf", "exp", "jti", "type", "client_id", "scope"};
  return std::find(kReserved.begin(), kReserved.end(), name) != kReserved.end();
}

std::optional<Seconds> parse_duration(std::string_view text, Zero zero) {
  // At most nine digits: no duration overflows, and none is absurdly long by accident.
  if (text.size() < 2 || text.size() > 10) return std::nullopt;
  std::int64_t n = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    n = n * 10 + (text[i] - '0');
  }
  if (n == 0 && zero == Zero::kRefused) return std::nullopt;
  switch (text.back()) {
    case 's': return Seconds(n);
    case 'm': return Seconds(n * 60);
    case 'h': return Seconds(n * 3600);
    case 'd': return Seconds(n * 86400);
    default: return std::nullopt;
  }
}

Result<Config> parse(std::string_view text, const std::string& path) {
  JsonError json_error;
  const auto doc = parse_strict_json(text, 16, &json_error);
  if (!doc) return make_error(Code::kConfig, path + ": " + json_error.message);
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  Config config;
  config.path = path;
  try {
    ObjectReader top(*doc, "");
    config.issuer = top.required_string("issuer");
    read_listen(top, config);
    read_tls(top, config, base);
    read_hsm(top, config, base);
    read_keys(top, config);
    // Zero means something for both: no caching of the JWKS, no clock skew allowed.
    read_single_duration(top, "jwks", "max_age", Zero::kAllowed, config.jwks_max_age);
    read_single_duration(top, "verify", "leeway", Zero::kAllowed, config.verify_leeway);
    if (config.verify_leeway > Seconds(60)) throw FieldError{"verify.leeway", "must be at most 60s (RFC 8725 asks for a small skew)"};
    read_profiles(top, config);
    read_clients(top, config);
    config.test_mode = top.boolean("test_mode").value_or(false);
    read_limits(top, config);
    if (const Json* audit = top.find("audit")) {
      ObjectReader r(*audit, "audit");
      config.audit_file = resolve(base, r.required_string("file"));
      if (auto name = r.string("name")) {
        if (name->size() > 64 || name->find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") != std::string::npos) {
          throw FieldError{"audit.name", "must be at most 64 characters of a-z, 0-9, '-', '_' and '.'"};
        }
        config.audit_name = *name;
      }
      // 0s: the head moves with every group commit, before its tokens are answered.
      if (auto d = r.duration("anchor_interval", Zero::kAllowed)) config.audit_anchor_interval = *d;
      r.finish();
    }
    top.finish();
  } catch (const FieldError& e) {
    return make_error(Code::kConfig, path + ": " + e.field + " " + e.why);
  }
  return config;
}

Result<Config> load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Code::kConfig, path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxConfigBytes) return make_error(Code::kConfig, path + ": is larger than 1 MiB");
  return parse(text.str(), path);
}

std::vector<std::string> settings_needing_restart(const Config& running, const Config& next) {
  std::vector<std::string> changed;
  const auto compare = [&changed](bool same, const char* name) {
    if (!same) changed.emplace_back(name);
  };
  compare(running.issuer == next.issuer, "issuer");
  compare(running.listen == next.listen, "listen");
  compare(running.tls.client_ca_file.empty() == next.tls.client_ca_file.empty(), "tls.client_ca_file (mTLS on or off)");
  compare(running.hsm == next.hsm, "hsm");
  compare(running.keys == next.keys, "keys");
  compare(running.jwks_max_age == next.jwks_max_age, "jwks");
  compare(running.verify_leeway == next.verify_leeway, "verify");
  compare(running.profiles == next.profiles, "profiles");
  compare(running.test_mode == next.test_mode, "test_mode");
  Limits limits = next.limits;
  limits.requests_per_second_per_client = running.limits.requests_per_second_per_client;
  compare(running.limits == limits, "limits (other than requests_per_second_per_client)");
  compare(running.audit_file == next.audit_file && running.audit_name == next.audit_name &&
              running.audit_anchor_interval == next.audit_anchor_interval,
          "audit");
  // A setting added later and missing above still cannot slip through unapplied: with what a
  // reload applies taken from running, the rest must be equal as a whole.
  Config rest = next;
  rest.tls = running.tls;
  rest.clients = running.clients;
  rest.limits.requests_per_second_per_client = running.limits.requests_per_second_per_client;
  if (changed.empty() && !(rest == running)) changed.emplace_back("other settings");
  return changed;
}

}  // namespace signet::config
