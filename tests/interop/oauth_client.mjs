// An OAuth 2.0 client as a Node.js service writes one, with panva's openid-client unmodified:
// discovery (OIDC or RFC 8414 metadata), the client credentials grant with HTTP Basic, RFC 7662
// introspection, and then panva's jose verifying the access token with the remote JWKS alone
// (typ at+jwt, issuer, audience). The CA of Signet's certificate comes from NODE_EXTRA_CA_CERTS.
// stdin: {"issuer", "client_id", "secret", "scope", "audience", "algorithms", "discovery": "oidc"|"oauth2"}
// stdout: {"token", "introspection", "forged_introspection", "verified": {"header", "payload"} | {"error"}}
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);

const config = await client.discovery(new URL(request.issuer), request.client_id, undefined,
                                      client.ClientSecretBasic(request.secret),
                                      { algorithm: request.discovery });
const token = await client.clientCredentialsGrant(config, { scope: request.scope });
const introspection = await client.tokenIntrospection(config, token.access_token,
                                                      { token_type_hint: 'access_token' });
const [h, p, s] = token.access_token.split('.');
const forged = `${h}.${p}.${s.slice(0, -4)}${s.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
const forgedIntrospection = await client.tokenIntrospection(config, forged);

let verified;
try {
  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(token.access_token, jwks, {
    issuer: config.serverMetadata().issuer,
    audience: request.audience,
    algorithms: request.algorithms,
    typ: 'at+jwt',
  });
  verified = { header: protectedHeader, payload };
} catch (error) {
  verified = { error: `${error.code ?? error.name}: ${error.message}` };
}
process.stdout.write(JSON.stringify({
  token: { ...token }, introspection, forged_introspection: forgedIntrospection, verified,
}) + '\n');
