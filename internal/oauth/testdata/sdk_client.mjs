// The real TypeScript MCP SDK as an OAuth client of Skillvault, driven by
// TestRealSDKClient (sdk_test.go). It runs the SDK's own auth() with an
// OAuthClientProvider, prints the authorization URL for the test's browser
// to approve, receives the code on a loopback redirect URI (RFC 8252),
// then calls tools with the issued token, refreshes it, and finally checks
// that a revoked grant is refused. Every step is one JSON line on stdout.
//
// Environment: SKILLVAULT_MCP_SDK_DIR (a folder with
// node_modules/@modelcontextprotocol/sdk), MCP_URL, and CLIENT_METADATA_URL
// to use a Client ID Metadata Document instead of dynamic registration.
import dns from 'node:dns';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

// Tenant hosts (acme.example.test) are the test server on loopback, as the
// browser's host-resolver-rules map them.
const lookup = dns.lookup;
dns.lookup = function (host, opts, cb) {
  if (typeof host === 'string' && host.endsWith('.example.test')) host = '127.0.0.1';
  return lookup.call(this, host, opts, cb);
};

const sdk = (p) => import(pathToFileURL(path.join(process.env.SKILLVAULT_MCP_SDK_DIR, 'node_modules/@modelcontextprotocol/sdk/dist/esm', p)).href);
const { auth, discoverAuthorizationServerMetadata } = await sdk('client/auth.js');
const { Client } = await sdk('client/index.js');
const { StreamableHTTPClientTransport } = await sdk('client/streamableHttp.js');

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const mcpURL = process.env.MCP_URL;
const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once('line', resolve));

// The loopback redirect URI: the code arrives here.
let onCallback;
const callback = new Promise((resolve) => { onCallback = resolve; });
const redirect = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://127.0.0.1');
  res.end('You can close this window.');
  if (u.pathname === '/callback') onCallback(Object.fromEntries(u.searchParams));
});
await new Promise((r) => redirect.listen(0, '127.0.0.1', r));
const redirectUrl = `http://127.0.0.1:${redirect.address().port}/callback`;

const store = {};
const provider = {
  get redirectUrl() { return redirectUrl; },
  get clientMetadataUrl() { return process.env.CLIENT_METADATA_URL || undefined; },
  get clientMetadata() {
    return { client_name: 'SDK test client', redirect_uris: [redirectUrl], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_method: 'none' };
  },
  state() { return (store.state = 'st-' + Math.random().toString(36).slice(2)); },
  clientInformation() { return store.client; },
  saveClientInformation(c) { store.client = c; },
  tokens() { return store.tokens; },
  saveTokens(t) { store.tokens = t; },
  redirectToAuthorization(u) { out({ step: 'authorize', url: u.href }); },
  saveCodeVerifier(v) { store.verifier = v; },
  codeVerifier() { return store.verifier; },
  invalidateCredentials(scope) { if (scope === 'all' || scope === 'tokens') delete store.tokens; },
};

try {
  let result = await auth(provider, { serverUrl: mcpURL });
  if (result !== 'REDIRECT') throw new Error('auth() before approval: ' + result);
  const cb = await callback;
  // RFC 9207: the server advertises iss; the response must carry it and
  // it must be the issuer the client discovered.
  const issuer = new URL(mcpURL).origin;
  const md = await discoverAuthorizationServerMetadata(issuer);
  if (!md.authorization_response_iss_parameter_supported || cb.iss !== md.issuer) throw new Error(`iss ${cb.iss} is not the issuer ${md.issuer}`);
  if (cb.state !== store.state) throw new Error('state mismatch');
  if (!cb.code) throw new Error('no code: ' + JSON.stringify(cb));
  result = await auth(provider, { serverUrl: mcpURL, authorizationCode: cb.code });
  out({ step: 'authorized', auth: result, client_id: store.client.client_id, scope: store.tokens.scope, has_refresh: !!store.tokens.refresh_token });

  const client = new Client({ name: 'sdk-oauth-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: provider }));
  const tools = await client.listTools();
  const call = await client.callTool({ name: 'list_skills', arguments: {} });
  out({ step: 'tool', tools: tools.tools.map((t) => t.name), isError: !!call.isError, text: call.content?.[0]?.text ?? '' });
  const caps = client.getServerCapabilities() || {};
  const ext = caps.extensions && caps.extensions['io.modelcontextprotocol/skills'];
  if (ext) {
    const skills = await client.request({ method: 'skills/list', params: {} }, (await sdk('types.js')).ResultSchema);
    out({ step: 'skills', ok: true, result: skills });
  } else {
    out({ step: 'skills', ok: false, reason: 'server does not advertise io.modelcontextprotocol/skills' });
  }
  await client.close();

  // A refresh rotates the refresh token; the new access token works.
  const before = store.tokens.refresh_token;
  result = await auth(provider, { serverUrl: mcpURL });
  const again = new Client({ name: 'sdk-oauth-test', version: '1.0.0' });
  await again.connect(new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: provider }));
  const call2 = await again.callTool({ name: 'list_skills', arguments: {} });
  await again.close();
  out({ step: 'refreshed', auth: result, rotated: before !== store.tokens.refresh_token, isError: !!call2.isError });

  // The test revokes the grant on the keys page, then says so.
  out({ step: 'waiting' });
  await nextLine();
  const cut = new Client({ name: 'sdk-oauth-test', version: '1.0.0' });
  try {
    await cut.connect(new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: provider }));
    await cut.callTool({ name: 'list_skills', arguments: {} });
    out({ step: 'after_revoke', refused: false });
  } catch (e) {
    out({ step: 'after_revoke', refused: true, error: String(e) });
  }
} catch (e) {
  out({ step: 'error', error: String(e && e.stack || e) });
  process.exitCode = 1;
} finally {
  redirect.close();
  lines.close();
}
