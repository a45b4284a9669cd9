// The key ring: Signet's published keys and the one active key that signs, read from the
// token at start. Readers (every request) take an immutable snapshot with one atomic load:
// the JWKS bytes, their ETag and the active key's pre-encoded JWS headers are rendered once
// per ring change, so a request copies nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "firmware/jose/jwk.h"
#include "firmware/ring/ring_record.h"
#include "hsm/hsm.h"

namespace signet::ring {

struct RingKey {
  RecordEntry entry;
  jose::Alg alg = jose::Alg::kES256;
  hsm::KeyRef ref;
  std::string jwk_json;  // the public JWK, as published
  bool local = false;
  bool always_sensitive = false;
  bool never_extractable = false;
};

struct Snapshot {
  std::vector<RingKey> keys;  // every published key (next, active, retiring)
  std::size_t active_index = 0;
  std::string jwks_body;  // {"keys":[...]}
  std::string etag;       // strong: a quoted digest of jwks_body
  // base64url JWS headers of the active key, one per typ the profiles use.
  std::vector<std::pair<std::string, std::string>> active_headers;

  const RingKey& active() const { return keys[active_index]; }
  // The active key's encoded header for typ, or nullptr for a typ no profile declared.
  const std::string* header_for(std::string_view typ) const;
};

struct RingOptions {
  jose::Alg algorithm = jose::Alg::kES256;
  unsigned rsa_bits = 2048;
  std::vector<std::string> typs;  // every typ a profile declares
};

class KeyRing {
 public:
  // Reads the ring record and the key pairs from the token; on a token without a Signet key
  // it generates the first one and makes it active, so that a fresh appliance serves at once.
  static Result<std::unique_ptr<KeyRing>> open(hsm::Hsm& hsm, RingOptions options, std::int64_t now);

  std::shared_ptr<const Snapshot> snapshot() const { return current_.load(std::memory_order_acquire); }

 private:
  explicit KeyRing(std::shared_ptr<const Snapshot> first) : current_(std::move(first)) {}
  std::atomic<std::shared_ptr<const Snapshot>> current_;
};

// Renders the published view of a ring: JWKS bytes, ETag and the active key's headers.
std::shared_ptr<const Snapshot> render_snapshot(std::vector<RingKey> keys, const std::vector<std::string>& typs);

}  // namespace signet::ring
