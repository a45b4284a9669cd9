// Verifies Signet tokens the way a Node.js relying party would: panva's jose fetches the live
// JWKS (createRemoteJWKSet) and checks each token (jwtVerify). The CA that signed Signet's
// certificate comes from NODE_EXTRA_CA_CERTS.
// stdin: {"jwks_uri", "issuer", "audience", "algorithms": [...], "tokens": [...]}
// stdout: one result per token, [{"ok": true, "header", "payload"} | {"ok": false, "error"}]
import { createRemoteJWKSet, jwtVerify } from 'jose';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);

const jwks = createRemoteJWKSet(new URL(request.jwks_uri));
const results = [];
for (const token of request.tokens) {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: request.issuer,
      audience: request.audience,
      algorithms: request.algorithms,
    });
    results.push({ ok: true, header: protectedHeader, payload });
  } catch (error) {
    results.push({ ok: false, error: `${error.code ?? error.name}: ${error.message}` });
  }
}
process.stdout.write(JSON.stringify(results) + '\n');
