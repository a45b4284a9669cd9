// What SIGHUP does: re-reads the config file and the files it names, and applies the client
// list (with limits.requests_per_second_per_client), the TLS certificate and key, and the
// client CA, all or nothing. An unreadable or invalid config, a bad certificate, key or CA, or
// a change to a setting that only a restart applies keeps everything as it was, and the log
// says why. Open connections are not touched: new handshakes get the new certificate, new
// requests the new clients and CA.
#pragma once

#include <string>

#include "base/result.h"
#include "config/config.h"
#include "firmware/auth/client_table.h"
#include "http/server.h"

namespace signet {

class Reloader {
 public:
  // running: the configuration signetd started with, which is compared with each new one;
  // identity_digest: TlsFiles::identity_digest of the identity being served.
  Reloader(const config::Config& running, std::string identity_digest, auth::ClientDirectory& clients,
           http::Server& server)
      : running_(running), identity_digest_(std::move(identity_digest)), clients_(clients), server_(server) {}

  // Reloads from running.path, logs the outcome (reloaded / reload_refused) and returns it.
  Status reload();

 private:
  const config::Config& running_;
  std::string identity_digest_;
  auth::ClientDirectory& clients_;
  http::Server& server_;
};

}  // namespace signet
