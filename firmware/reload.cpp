#include "firmware/reload.h"

#include <memory>

#include "base/log.h"
#include "firmware/tls_files.h"

namespace signet {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

}  // namespace

Status Reloader::reload() {
  // Everything new is built and checked first; only then is anything replaced.
  const auto refuse = [](const Error& error) {
    log::error("reload_refused", {{"detail", error.message}});
    return Status(error);
  };
  auto next = config::load(running_.path);
  if (!next.ok()) return refuse(next.error());
  if (const auto changed = config::settings_needing_restart(running_, *next); !changed.empty()) {
    return refuse(make_error(Code::kConfig, "only a restart applies a change to " + joined(changed)));
  }
  auto files = read_tls_files(*next);
  if (!files.ok()) return refuse(files.error());
  std::unique_ptr<http::TlsIdentity> identity;
  if (files->identity_digest != identity_digest_) {
    auto loaded = load_tls_identity(*next, *files);
    if (!loaded.ok()) return refuse(loaded.error());
    identity = std::move(*loaded);
  }
  auto table = std::make_shared<const auth::ClientTable>(std::move(next->clients),
                                                         next->limits.requests_per_second_per_client,
                                                         clients_.current().get());

  const bool new_identity = identity != nullptr;
  if (new_identity) {
    http::TlsIdentity::serve(std::move(identity));
    identity_digest_ = std::move(files->identity_digest);
  }
  const bool mtls = files->client_trust != nullptr;
  if (mtls) server_.replace_client_trust(std::move(files->client_trust));
  const auto count = table->clients().size();
  clients_.publish(std::move(table));
  log::info("reloaded", {{"clients", std::to_string(count)},
                         {"tls_identity", new_identity ? "replaced" : "unchanged"},
                         {"client_ca", mtls ? "reloaded" : "none"}});
  return ok_status();
}

}  // namespace signet
