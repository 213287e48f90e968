// panva/oidc-provider on 127.0.0.1 for authsurge's third-party journey tests.
// Usage: node server.mjs PORT   (the client secret comes from OP_CLIENT_SECRET)
// Everything here is the provider's own configuration; authsurge talks to it with
// configuration only (no per-provider code in the harness).
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const common = {
  redirect_uris: ['http://127.0.0.1/callback'],
  post_logout_redirect_uris: ['http://127.0.0.1/logged-out'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};

const provider = new Provider(issuer, {
  clients: [
    { client_id: 'op-public', token_endpoint_auth_method: 'none', ...common },
    {
      client_id: 'op-confidential',
      client_secret: process.env.OP_CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      ...common,
    },
  ],
  // devInteractions: the provider's own HTML login and consent pages (any login works).
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  // Refresh tokens without offline_access + prompt=consent, like most apps configure it.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  cookies: { keys: ['authsurge-test-cookie-key'] },
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
// Stop with the test process that started us, should it die without stopping us.
const owner = Number(process.env.OP_OWNER_PID || 0);
if (owner) {
  setInterval(() => {
    try { process.kill(owner, 0); } catch { process.exit(0); }
  }, 1000).unref();
}
