#include "tools/signetctl/init_plan.h"

#include <arpa/inet.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/pkcs11_uri.h"

namespace signet::ctl {
namespace {

constexpr std::size_t kMaxTokenLabel = 32;  // CK_TOKEN_INFO.label

Error bad(const std::string& option, const std::string& why) {
  return make_error(Code::kInvalidArgument, "option '--" + option + "' " + why);
}

bool is_ip(const std::string& text) {
  unsigned char bytes[16];
  return inet_pton(AF_INET, text.c_str(), bytes) == 1 || inet_pton(AF_INET6, text.c_str(), bytes) == 1;
}

// A DNS name for a certificate: letters, digits, '-' and '.', optionally a leading "*.".
bool is_dns_name(const std::string& text) {
  std::string_view name = text;
  if (name.rfind("*.", 0) == 0) name.remove_prefix(2);
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

void add_name(TlsSubject& subject, const std::string& name) {
  auto& list = is_ip(name) ? subject.ip_addresses : subject.dns_names;
  if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
}

std::string absolute(const std::string& path, const std::string& working_dir) {
  const std::filesystem::path p(path);
  return (p.is_absolute() ? p : std::filesystem::path(working_dir) / p).lexically_normal().string();
}

// "ADDR:PORT" or "[IPv6]:PORT".
Status read_listen(const std::string& text, InitPlan& plan) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return bad("listen", "must be ADDR:PORT, e.g. 0.0.0.0:8443");
  std::string address = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') address = address.substr(1, address.size() - 2);
  if (!is_ip(address)) return bad("listen", "needs an IP address before the port, not '" + address + "'");
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) || std::stoul(port) == 0 ||
      std::stoul(port) > 65535) {
    return bad("listen", "needs a port from 1 to 65535, not '" + port + "'");
  }
  plan.listen_address = address;
  plan.listen_port = static_cast<std::uint16_t>(std::stoul(port));
  return ok_status();
}

// The host of an https URL, without brackets or port; empty when it is not one.
std::string issuer_host(const std::string& issuer) {
  constexpr std::string_view kScheme = "https://";
  if (issuer.rfind(kScheme, 0) != 0) return "";
  std::string authority = issuer.substr(kScheme.size());
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.find('@') != std::string::npos) return "";
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    return close == std::string::npos ? "" : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool is_wildcard(const std::string& address) { return address == "0.0.0.0" || address == "::"; }

std::string percent_encode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

}  // namespace

Result<InitPlan> plan_init(const Args& args, const std::string& host_name, const std::string& working_dir) {
  InitPlan plan;
  // In the order of the synopsis, so that the first one missing is named. The module may
  // instead be the module-path of --uri, and the token its label or the URI (as hsm.uri).
  const bool by_uri = !args.option("uri").empty();
  if (args.option("config-dir").empty()) return bad("config-dir", "is required (see 'signetctl init --help')");
  if (!by_uri && args.option("module").empty()) return bad("module", "is required (see 'signetctl init --help')");
  if (args.option("token-label").empty() != by_uri) return bad("token-label", "or --uri: exactly one of them is required");
  if (args.option("pin-file").empty()) return bad("pin-file", "is required (see 'signetctl init --help')");
  plan.config_dir = absolute(args.option("config-dir"), working_dir);
  plan.config_file = (std::filesystem::path(plan.config_dir) / "signet.json").string();
  plan.module = args.option("module");  // a bare name is for dlopen to find
  if (by_uri) {
    auto uri = config::parse_pkcs11_uri(args.option("uri"));
    auto selection = uri.ok() ? config::token_selection(*uri) : Result<config::TokenSelection>(uri.error());
    if (!selection.ok()) return bad("uri", selection.error().message);
    if (!selection->module_path.empty() && !plan.module.empty()) {
      return bad("module", "is given twice: as --module and as the module-path of --uri; keep one");
    }
    if (!selection->module_path.empty()) plan.module = selection->module_path;
    plan.uri = args.option("uri");
    plan.token_label = selection->label;
    plan.token_serial = selection->serial;
    plan.slot_id = selection->slot_id;
  } else {
    plan.token_label = args.option("token-label");
    if (plan.token_label.size() > kMaxTokenLabel) return bad("token-label", "is longer than 32 bytes");
  }
  if (plan.module.empty()) return bad("module", "is required (or module-path in --uri)");
  plan.pin_file = absolute(args.option("pin-file"), working_dir);
  plan.pin_credential = args.option("pin-credential");
  if (!plan.pin_credential.empty() &&
      (plan.pin_credential.front() == '.' ||
       !std::all_of(plan.pin_credential.begin(), plan.pin_credential.end(),
                    [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'; }))) {
    return bad("pin-credential", "must be a credential name (letters, digits, '.', '_', '-')");
  }
  if (!args.option("listen").empty()) {
    if (Status listen = read_listen(args.option("listen"), plan); !listen.ok()) return listen.error();
  }
  if (!args.option("alg").empty()) {
    plan.algorithm = args.option("alg");
    if (plan.algorithm != "ES256" && plan.algorithm != "RS256" && plan.algorithm != "PS256" && plan.algorithm != "EdDSA") {
      return bad("alg", "must be ES256, RS256, PS256 or EdDSA, not '" + plan.algorithm + "'");
    }
  }
  if (!args.option("audit-file").empty()) plan.audit_file = absolute(args.option("audit-file"), working_dir);
  plan.force = args.flag("force");

  plan.issuer = args.option("issuer");
  if (plan.issuer.empty()) {
    plan.issuer = "https://" + host_name + (plan.listen_port == 443 ? "" : ":" + std::to_string(plan.listen_port));
  }
  const std::string host = issuer_host(plan.issuer);
  if (host.empty() || !(is_ip(host) || is_dns_name(host))) {
    return bad("issuer", "must be an https URL with a host name or address, not '" + plan.issuer + "'");
  }
  plan.subject.common_name = host;
  add_name(plan.subject, host);
  if (!is_wildcard(plan.listen_address)) add_name(plan.subject, plan.listen_address);
  std::stringstream sans(args.option("san"));
  for (std::string name; std::getline(sans, name, ',');) {
    if (!is_ip(name) && !is_dns_name(name)) return bad("san", "holds '" + name + "', neither a DNS name nor an IP address");
    add_name(plan.subject, name);
  }
  return plan;
}

std::string tls_key_uri(const InitPlan& plan, const std::string& key_id, const std::string& key_label) {
  std::string id;
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : key_id) id += {'%', kHex[c >> 4], kHex[c & 15]};
  // The same token as the plan's: by whatever attributes selected it.
  std::string token;
  if (!plan.token_label.empty()) token += "token=" + percent_encode(plan.token_label) + ";";
  if (!plan.token_serial.empty()) token += "serial=" + percent_encode(plan.token_serial) + ";";
  if (plan.slot_id) token += "slot-id=" + std::to_string(*plan.slot_id) + ";";
  return "pkcs11:" + token + "object=" + percent_encode(key_label) + ";id=" + id + ";type=private";
}

std::string render_config(const InitPlan& plan, const std::string& key_uri, const std::string& admin_key_sha256,
                          bool with_credential) {
  using Json = nlohmann::ordered_json;
  // A --uri is written as it was given, with the module beside it unless the URI names it.
  Json hsm = plan.uri.empty() ? Json{{"module", plan.module}, {"token_label", plan.token_label}} : Json{{"uri", plan.uri}};
  if (!plan.uri.empty() && plan.uri.find("module-path=") == std::string::npos) hsm["module"] = plan.module;
  if (with_credential && !plan.pin_credential.empty()) {
    hsm["pin_credential"] = plan.pin_credential;
  } else {
    hsm["pin_file"] = plan.pin_file;
  }
  Json config{
      {"issuer", plan.issuer},
      {"listen", {{"address", plan.listen_address}, {"port", plan.listen_port}}},
      {"tls", {{"cert_file", "tls/server.crt"}, {"key_uri", key_uri}}},
      {"hsm", hsm},
      {"keys", {{"algorithm", plan.algorithm}}},
      {"profiles", {{"access", {{"ttl", "15m"}, {"audience", "api"}, {"typ", "at+jwt"}}}}},
      {"clients", Json::array({{{"id", "admin"}, {"api_key_sha256", admin_key_sha256}, {"admin", true},
                                {"profiles", {"access"}}}})},
  };
  if (!plan.audit_file.empty()) config["audit"] = {{"file", plan.audit_file}};
  return config.dump(2) + "\n";
}

}  // namespace signet::ctl
