#include "firmware/issuance/access_token.h"

#include <string>

namespace signet::issuance {

void make_access_token(Grant& grant, std::string_view client_id) {
  grant.typ = std::string(kAccessTokenTyp);
  // Both names are reserved (config::is_reserved_claim): a client's own claims never hold them.
  grant.claims["client_id"] = client_id;
  grant.claims["scope"] = grant.profile->name;
}

}  // namespace signet::issuance
