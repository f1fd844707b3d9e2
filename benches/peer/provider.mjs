// The benchmark peer: panva's node-oidc-provider (OpenID Certified), configured like Pintu for
// the measured workloads: ES256 signatures, JWT access tokens for client_credentials (RFC 9068),
// client_secret_basic, refresh-token rotation, introspection, PKCE S256 required, and a login
// form whose password is checked with argon2id at Pintu's parameters. Storage is the library's
// in-memory adapter (it ships no SQL adapter), which favours the peer.
//
// Environment: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, USERNAME, PASSWORD.
import crypto from 'node:crypto';
import argon2 from 'argon2';
import Provider from 'oidc-provider';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const port = Number(env('PORT'));
const issuer = `http://127.0.0.1:${port}`;
const resource = `${issuer}/api`;
const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'peer' };
const passwordHash = await argon2.hash(env('PASSWORD'), {
  type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1,
});

const provider = new Provider(issuer, {
  clients: [{
    client_id: env('CLIENT_ID'),
    client_secret: env('CLIENT_SECRET'),
    redirect_uris: [env('REDIRECT_URI')],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [jwk] },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  scopes: ['openid', 'offline_access', 'api'],
  claims: { openid: ['sub'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // client_credentials asks for `resource`; the code flow keeps userinfo-capable tokens.
      defaultResource: () => undefined,
      useGrantedResource: () => false,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: resource,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  pkce: { required: () => true },
  rotateRefreshToken: true,
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  ttl: { AccessToken: 600, ClientCredentials: 600, IdToken: 600, AuthorizationCode: 60, RefreshToken: 30 * 86400, Interaction: 900, Session: 8 * 3600, Grant: 30 * 86400 },
});

const readForm = (req) => new Promise((resolve, reject) => {
  let body = '';
  req.on('data', (c) => { body += c; if (body.length > 65536) reject(new Error('too large')); });
  req.on('end', () => resolve(new URLSearchParams(body)));
  req.on('error', reject);
});

const page = (uid) => `<!DOCTYPE html><form method="post" action="/interaction/${uid}/login">`
  + '<input type="hidden" name="csrf_token" value="-"><input name="username" autocomplete="username">'
  + '<input type="password" name="password" autocomplete="current-password"><button>Login</button></form>';

provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!m) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = page(details.uid);
    return undefined;
  }
  const form = await readForm(ctx.req);
  const ok = form.get('username') === env('USERNAME') && await argon2.verify(passwordHash, form.get('password') || '');
  if (!ok) {
    ctx.status = 401;
    ctx.type = 'html';
    ctx.body = page(details.uid);
    return undefined;
  }
  const grant = new provider.Grant({ accountId: env('USERNAME'), clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  const location = await provider.interactionResult(ctx.req, ctx.res, {
    login: { accountId: env('USERNAME') },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(location);
  return undefined;
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`peer listening on ${issuer}\n`);
});
