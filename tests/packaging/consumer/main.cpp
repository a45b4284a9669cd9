// Uses the installed verifier as a relying party would: a key set from a JWKS, then a token.
// Prints "<keys imported> <reason>" for the test to compare.
#include <cstdio>

#include "firmware/verify/jwks_fetcher.h"
#include "firmware/verify/verifier.h"

int main() {
  using namespace signet::verify;
  // RFC 7515 A.3's P-256 key, with a kid and an alg.
  const char* jwks = R"({"keys":[{"kty":"EC","crv":"P-256","kid":"a3","alg":"ES256","use":"sig",
    "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})";
  const KeySet::Import imported = KeySet::from_jwks_json(jwks);
  Expectations expect;
  expect.issuer = "https://signet.example";
  const VerifyResult result = verify(imported.keys, "not.a.token", expect);
  std::printf("%zu %s\n", imported.keys.size(), std::string(to_string(result.reason)).c_str());
  return result.valid ? 1 : 0;
}
