// panva/oidc-provider on 127.0.0.1 for authsurge's third-party journey tests.
// Usage: node server.mjs PORT   (the client secret comes from OP_CLIENT_SECRET)
// Optional: OP_DEVICE_TTL_S (device code lifetime in seconds, the provider's ttl.DeviceCode;
// default 600) and OP_DEVICE_INTERVAL_S (see below: an `interval` in the device
// authorization answer, which oidc-provider itself never sends).
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
const positive = (name) => {
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new TypeError(`${name} must be a positive integer`);
  return n;
};
const deviceTtl = positive('OP_DEVICE_TTL_S');
const deviceInterval = positive('OP_DEVICE_INTERVAL_S');

const provider = new Provider(issuer, {
  clients: [
    { client_id: 'op-public', token_endpoint_auth_method: 'none', ...common },
    {
      client_id: 'op-confidential',
      client_secret: process.env.OP_CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      ...common,
    },
    // RFC 8628 device authorization grant: a public client with no redirect URIs.
    {
      client_id: 'op-device',
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
    },
  ],
  // devInteractions: the provider's own HTML login and consent pages (any login works).
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    // POST /device/auth, the user code pages at /device (default charset base-20, mask
    // ****-****, and the provider's default HTML for the input, confirm and success pages).
    deviceFlow: { enabled: true },
  },
  ...(deviceTtl ? { ttl: { DeviceCode: deviceTtl } } : {}),
  pkce: { required: () => true },
  // Refresh tokens without offline_access + prompt=consent, like most apps configure it.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  cookies: { keys: ['authsurge-test-cookie-key'] },
});

// oidc-provider answers the device authorization request without `interval` (clients use
// RFC 8628's 5 s default) and never answers slow_down. OP_DEVICE_INTERVAL_S only adds that
// field to the answer so tests can poll sooner; the provider enforces nothing.
if (deviceInterval) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method === 'POST' && ctx.path === '/device/auth' && ctx.status === 200
        && ctx.body && typeof ctx.body === 'object' && 'device_code' in ctx.body) {
      ctx.body = { ...ctx.body, interval: deviceInterval };
    }
  });
}

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
