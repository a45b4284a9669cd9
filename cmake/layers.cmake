# The layers, as data: which folders the code in each folder may include ("#include "x/..."").
# A file belongs to the longest folder below that holds it; folders not named here (tests/,
# tools/) are not checked. check_layers.cmake enforces the table at every build and in ctest.
#
#   transport         http/            knows HTTP and TLS, nothing of tokens or keys
#   the API           firmware/api/    the route table and its handlers: HTTP to the domain
#   the domain        firmware/*/      auth, issuance, the key ring, JOSE, verify, audit, limits, OAuth
#   the token         hsm/             PKCS#11
#   below all         base/, config/
#   composition root  firmware/*.cpp   main() and what it alone uses: may include anything
set(SIGNET_LAYERS
  "base: base"
  "config: base config"
  "hsm: base hsm"
  "http: base http"
  "firmware/jose: base firmware/jose"
  "firmware/verify: base firmware/jose firmware/verify"
  "firmware/limits: base firmware/limits"
  "firmware/audit: base hsm firmware/audit"
  "firmware/auth: base config firmware/auth firmware/limits"
  "firmware/ring: base hsm firmware/jose firmware/verify firmware/ring"
  "firmware/issuance: base config hsm firmware/audit firmware/jose firmware/ring firmware/issuance"
  "firmware/oauth: base config firmware/jose firmware/verify firmware/oauth"
  "firmware/api: base config hsm http firmware/api firmware/audit firmware/auth firmware/issuance firmware/jose firmware/limits firmware/oauth firmware/ring firmware/verify"
  "firmware: base config hsm http firmware"
)
