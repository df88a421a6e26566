import { execFile } from 'node:child_process';
import { generateKeyPair, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startKafka, type ExtraListener, type KafkaTestbed, type StartKafkaOptions } from './broker.js';

/**
 * A broker with every kind of listener operators put in front of Kafka, for proving lagbot
 * connects the way they require: TLS with a private CA, mutual TLS, SASL PLAIN and SCRAM over
 * TLS and plaintext, OAUTHBEARER (unsecured JWTs, and signed ones checked against a JWKS),
 * and TLS listeners with an expired certificate and one for another host. All key material is
 * made here at test time, with openssl and node:crypto; none is committed.
 */

const OPENSSL_TIMEOUT_MS = 20_000;

export interface KeyPair {
  cert: string;
  key: string;
  /** key and cert in one file, which is what Kafka's PEM keystore reads. */
  keystore: string;
}

export interface TestPki {
  dir: string;
  /** The CA that signed every certificate below. */
  ca: string;
  /** A second CA that signed nothing lagbot meets: "a CA lagbot does not trust". */
  otherCa: string;
  /** For 127.0.0.1 and localhost. */
  server: KeyPair;
  /** For 127.0.0.1, but valid only in January 2020. */
  expired: KeyPair;
  /** For wrong.example.com only. */
  wrongHost: KeyPair;
  /** CN=lagbot, for mutual TLS. */
  client: KeyPair;
  /** The client's key encrypted with `clientKeyPassphrase` (PKCS#8, AES-256). */
  clientEncryptedKey: string;
  clientKeyPassphrase: string;
  /** CN=lagbot, but signed by otherCa: a client certificate the broker does not trust. */
  strangerClient: KeyPair;
}

function openssl(dir: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd: dir, timeout: OPENSSL_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (!error) return resolve();
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new Error(missing ? 'openssl is needed to make the test certificates (apt-get install openssl)' : `openssl ${args.join(' ')} failed in ${dir}:\n${stderr}${stdout}`));
    });
  });
}

// EC keys: an RSA key takes a noticeable fraction of a second on a 2-core machine, and
// both node and Kafka's PEM keystore read PKCS#8 EC keys.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  await openssl(dir, ['req', '-x509', ...NEW_KEY, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=lagbot test ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { cert, key };
}

/**
 * A leaf certificate signed by `ca`. `openssl ca` rather than `openssl x509 -req` because
 * only it can set a validity window in the past (OpenSSL 3.0 has no -not_before).
 */
async function makeLeaf(
  dir: string,
  ca: { cert: string; key: string },
  name: string,
  opts: { cn: string; san?: string; startDate?: string; endDate?: string },
): Promise<KeyPair> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  await openssl(dir, ['req', ...NEW_KEY, '-keyout', key, '-out', csr, '-subj', `/CN=${opts.cn}`]);
  const caDir = join(dir, `${name}-ca`);
  await rm(caDir, { recursive: true, force: true });
  await writeFile(join(dir, `${name}.index`), '');
  const conf = join(dir, `${name}.cnf`);
  await writeFile(
    conf,
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      `database = ${join(dir, `${name}.index`)}`,
      `new_certs_dir = ${dir}`,
      `serial = ${join(dir, `${name}.serial`)}`,
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      'x509_extensions = leaf',
      '[any]',
      'commonName = supplied',
      '[leaf]',
      'basicConstraints = CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment,keyAgreement',
      'extendedKeyUsage = serverAuth,clientAuth',
      ...(opts.san ? [`subjectAltName = ${opts.san}`] : []),
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, `${name}.serial`), `${Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, '0')}\n`);
  const dates = opts.startDate && opts.endDate ? ['-startdate', opts.startDate, '-enddate', opts.endDate] : ['-days', '2'];
  await openssl(dir, ['ca', '-batch', '-notext', '-config', conf, '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', cert, ...dates]);
  const keystore = join(dir, `${name}-keystore.pem`);
  await writeFile(keystore, (await readFile(key, 'utf8')) + (await readFile(cert, 'utf8')));
  return { cert, key, keystore };
}

/** A CA, a second CA, and the server and client certificates the security tests need. */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const ca = await makeCa(dir, 'ca');
  const other = await makeCa(dir, 'other-ca');
  const san = 'IP:127.0.0.1,DNS:localhost';
  const [server, expired, wrongHost, client, strangerClient] = await Promise.all([
    makeLeaf(dir, ca, 'server', { cn: 'localhost', san }),
    makeLeaf(dir, ca, 'expired', { cn: 'localhost', san, startDate: '20200101000000Z', endDate: '20200201000000Z' }),
    makeLeaf(dir, ca, 'wrong-host', { cn: 'wrong.example.com', san: 'DNS:wrong.example.com' }),
    makeLeaf(dir, ca, 'client', { cn: 'lagbot' }),
    makeLeaf(dir, other, 'stranger', { cn: 'lagbot' }),
  ]);
  const clientKeyPassphrase = 'test-passphrase-only';
  const clientEncryptedKey = join(dir, 'client-encrypted.key');
  await openssl(dir, ['pkcs8', '-topk8', '-in', client.key, '-out', clientEncryptedKey, '-v2', 'aes-256-cbc', '-passout', `pass:${clientKeyPassphrase}`]);
  return { dir, ca: ca.cert, otherCa: other.cert, server, expired, wrongHost, client, clientEncryptedKey, clientKeyPassphrase, strangerClient };
}

/** The SASL users every SASL listener knows, and the OAuth subject the token endpoint issues. */
export interface SecureUsers {
  username: string;
  plainPassword: string;
  scram256Password: string;
  scram512Password: string;
}

export const DEFAULT_USERS: SecureUsers = {
  username: 'lagbot',
  plainPassword: 'plain-secret-for-tests',
  scram256Password: 'scram256-secret-for-tests',
  scram512Password: 'scram512-secret-for-tests',
};

/** Listener names, as they appear in StartKafkaOptions.listeners and KafkaTestbed.listeners. */
export const LISTENER = {
  ssl: 'SSL',
  mtls: 'MTLS',
  saslSsl: 'SASL_SSL',
  saslPlaintext: 'SASL_PLAINTEXT',
  oauth: 'OAUTH',
  /** OAUTHBEARER with signed JWTs checked against a JWKS: only when startSecureKafka has an oauthIssuer. */
  oauthJwks: 'OAUTH_JWKS',
  expired: 'EXPIRED',
  wrongHost: 'WRONGHOST',
} as const;

const LISTENERS: ExtraListener[] = [
  { name: LISTENER.ssl, protocol: 'SSL' },
  { name: LISTENER.mtls, protocol: 'SSL' },
  { name: LISTENER.saslSsl, protocol: 'SASL_SSL' },
  { name: LISTENER.saslPlaintext, protocol: 'SASL_PLAINTEXT' },
  { name: LISTENER.oauth, protocol: 'SASL_PLAINTEXT' },
  { name: LISTENER.expired, protocol: 'SSL' },
  { name: LISTENER.wrongHost, protocol: 'SSL' },
];

/** JAAS values are double-quoted Java strings. */
const jaasString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

function keystoreProps(listener: string, pair: KeyPair): Record<string, string> {
  const p = `listener.name.${listener.toLowerCase()}.`;
  return { [`${p}ssl.keystore.type`]: 'PEM', [`${p}ssl.keystore.location`]: pair.keystore };
}

/**
 * The principal Kafka derives from the mTLS client certificate, with the default
 * ssl.principal.mapping.rules: the whole subject DN.
 */
export const MTLS_PRINCIPAL = 'User:CN=lagbot';

/**
 * The broker properties and format arguments of the secure listeners; with `jwksUrl`, also the
 * OAUTH_JWKS listener, which takes only JWTs signed by a key of that JWK Set.
 */
export function secureBrokerOptions(pki: TestPki, users: SecureUsers, opts: { oauthReauthMs?: number; jwksUrl?: string } = {}): Pick<StartKafkaOptions, 'brokerProps' | 'listeners' | 'formatArgs'> {
  const saslMechanisms = 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512';
  const saslJaas = (listener: string): Record<string, string> => {
    const p = `listener.name.${listener.toLowerCase()}.`;
    return {
      [`${p}sasl.enabled.mechanisms`]: saslMechanisms,
      [`${p}plain.sasl.jaas.config`]: `org.apache.kafka.common.security.plain.PlainLoginModule required user_${users.username}=${jaasString(users.plainPassword)};`,
      [`${p}scram-sha-256.sasl.jaas.config`]: 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
      [`${p}scram-sha-512.sasl.jaas.config`]: 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    };
  };
  const oauth = `listener.name.${LISTENER.oauth.toLowerCase()}.`;
  const brokerProps: Record<string, string> = {
    ...keystoreProps(LISTENER.ssl, pki.server),
    ...keystoreProps(LISTENER.mtls, pki.server),
    [`listener.name.${LISTENER.mtls.toLowerCase()}.ssl.client.auth`]: 'required',
    [`listener.name.${LISTENER.mtls.toLowerCase()}.ssl.truststore.type`]: 'PEM',
    [`listener.name.${LISTENER.mtls.toLowerCase()}.ssl.truststore.location`]: pki.ca,
    ...keystoreProps(LISTENER.saslSsl, pki.server),
    ...saslJaas(LISTENER.saslSsl),
    ...saslJaas(LISTENER.saslPlaintext),
    ...keystoreProps(LISTENER.expired, pki.expired),
    ...keystoreProps(LISTENER.wrongHost, pki.wrongHost),
    // Kafka's unsecured JWT validation: a test-only setting that accepts `alg: none` tokens,
    // still checking their expiry and subject, so a local token endpoint can stand in for an IdP.
    [`${oauth}sasl.enabled.mechanisms`]: 'OAUTHBEARER',
    [`${oauth}oauthbearer.sasl.jaas.config`]: 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";',
    [`${oauth}oauthbearer.sasl.server.callback.handler.class`]: 'org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler',
    ...(opts.oauthReauthMs ? { [`${oauth}oauthbearer.connections.max.reauth.ms`]: String(opts.oauthReauthMs) } : {}),
    ...(opts.jwksUrl ? jwksListenerProps(opts.jwksUrl) : {}),
    // Authorization on, so the tests prove which ACLs lagbot needs: PLAINTEXT (the test's own
    // admin, the controller and inter-broker traffic) and unauthenticated TLS are ANONYMOUS.
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': 'User:ANONYMOUS',
  };
  const formatArgs = [
    '--add-scram', `SCRAM-SHA-256=[name=${users.username},password=${users.scram256Password}]`,
    '--add-scram', `SCRAM-SHA-512=[name=${users.username},password=${users.scram512Password}]`,
    // A user who can log in but has no ACLs: what lagbot says when it is not authorized.
    '--add-scram', `SCRAM-SHA-512=[name=nobody,password=${users.scram512Password}]`,
  ];
  const listeners = opts.jwksUrl ? [...LISTENERS, { name: LISTENER.oauthJwks, protocol: 'SASL_PLAINTEXT' as const }] : LISTENERS;
  return { brokerProps, listeners, formatArgs };
}

/**
 * Kafka's production validator, as brokers behind a real IdP run it: the token's RS256
 * signature checked with the key its kid names in the JWK Set at `jwksUrl`, and its exp, iat
 * and sub; the principal is User:<sub>.
 */
function jwksListenerProps(jwksUrl: string): Record<string, string> {
  const p = `listener.name.${LISTENER.oauthJwks.toLowerCase()}.`;
  return {
    [`${p}sasl.enabled.mechanisms`]: 'OAUTHBEARER',
    [`${p}oauthbearer.sasl.jaas.config`]: 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
    [`${p}oauthbearer.sasl.server.callback.handler.class`]: 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler',
    [`${p}sasl.oauthbearer.jwks.endpoint.url`]: jwksUrl,
  };
}

export interface SecureKafka {
  broker: KafkaTestbed;
  pki: TestPki;
  users: SecureUsers;
  /** "127.0.0.1:PORT" of a listener, by its name in LISTENER. */
  listener(name: string): string;
  /** Stops the broker and removes the certificates. */
  stop(): Promise<void>;
}

/**
 * One broker with every listener of LISTENER, its certificates made for this run. OAUTH_JWKS
 * is there only with `oauthIssuer`, a running token endpoint whose JWKS it reads (so the
 * endpoint starts first).
 */
export async function startSecureKafka(
  opts: Omit<StartKafkaOptions, 'listeners' | 'formatArgs'> & { users?: SecureUsers; oauthReauthMs?: number; oauthIssuer?: TokenEndpoint } = {},
): Promise<SecureKafka> {
  const { users = DEFAULT_USERS, oauthReauthMs, oauthIssuer, ...start } = opts;
  const dir = await mkdtemp(join(tmpdir(), 'lagbot-pki-'));
  try {
    const pki = await makeTestPki(dir);
    const secure = secureBrokerOptions(pki, users, { ...(oauthReauthMs ? { oauthReauthMs } : {}), ...(oauthIssuer ? { jwksUrl: oauthIssuer.jwksUrl } : {}) });
    const jvmArgs = [...(start.jvmArgs ?? []), ...(oauthIssuer ? allowedOAuthUrlsJvmArgs(oauthIssuer) : [])];
    const broker = await startKafka({ ...start, ...secure, jvmArgs, brokerProps: { ...secure.brokerProps, ...(start.brokerProps ?? {}) } });
    return {
      broker,
      pki,
      users,
      listener(name) {
        const address = broker.listeners?.[name];
        if (!address) throw new Error(`the secure test broker has no listener ${name}`);
        return address;
      },
      async stop() {
        await broker.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** What a Kafka CLI client needs to speak to one listener, as its --command-config file says it. */
export interface ClientSecurity {
  protocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
  /** PEM CA file for ssl.truststore. */
  ca?: string;
  /** PEM key+cert file for ssl.keystore (mutual TLS). */
  keystore?: string;
  sasl?:
    | { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string }
    /** Kafka's unsecured login: a token `alg: none` for this subject, for the unsecured validator. */
    | { mechanism: 'OAUTHBEARER'; subject: string }
    /**
     * Kafka's OAuth client (OAuthBearerLoginCallbackHandler): a token from `tokenEndpoint` by
     * the client credentials grant. Its JVM needs allowedOAuthUrlsJvmArgs() on Kafka 4.x.
     */
    | { mechanism: 'OAUTHBEARER'; tokenEndpoint: string; clientId: string; clientSecret: string; scope?: string };
}

/** The client .properties for `kafka-consumer-groups --command-config`. */
export function clientProperties(security: ClientSecurity): Record<string, string> {
  const props: Record<string, string> = { 'security.protocol': security.protocol };
  if (security.ca) {
    props['ssl.truststore.type'] = 'PEM';
    props['ssl.truststore.location'] = security.ca;
  }
  if (security.keystore) {
    props['ssl.keystore.type'] = 'PEM';
    props['ssl.keystore.location'] = security.keystore;
  }
  const sasl = security.sasl;
  if (sasl?.mechanism === 'OAUTHBEARER' && 'tokenEndpoint' in sasl) {
    props['sasl.mechanism'] = 'OAUTHBEARER';
    props['sasl.login.callback.handler.class'] = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler';
    props['sasl.oauthbearer.token.endpoint.url'] = sasl.tokenEndpoint;
    const scope = sasl.scope === undefined ? '' : ` scope=${jaasString(sasl.scope)}`;
    props['sasl.jaas.config'] = `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId=${jaasString(sasl.clientId)} clientSecret=${jaasString(sasl.clientSecret)}${scope};`;
  } else if (sasl?.mechanism === 'OAUTHBEARER') {
    props['sasl.mechanism'] = 'OAUTHBEARER';
    props['sasl.jaas.config'] = `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub=${jaasString(sasl.subject)};`;
  } else if (sasl) {
    props['sasl.mechanism'] = sasl.mechanism;
    const module = sasl.mechanism === 'PLAIN' ? 'org.apache.kafka.common.security.plain.PlainLoginModule' : 'org.apache.kafka.common.security.scram.ScramLoginModule';
    props['sasl.jaas.config'] = `${module} required username=${jaasString(sasl.username)} password=${jaasString(sasl.password)};`;
  }
  return props;
}

/** Writes clientProperties() to `path` and returns the path. */
export async function writeClientProperties(path: string, security: ClientSecurity): Promise<string> {
  // In .properties files a backslash escapes; the JAAS line's own escapes must survive it.
  const lines = Object.entries(clientProperties(security)).map(([k, v]) => `${k}=${v.replace(/\\/g, '\\\\')}`);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/** An unsecured JWT (`alg: none`, empty signature), what Kafka's unsecured validator accepts. */
export function unsecuredJwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none' })}.${part(claims)}.`;
}

export interface TokenEndpoint {
  /** http://127.0.0.1:PORT/token: issues unsecured JWTs, for the OAUTH listener's unsecured validator. */
  url: string;
  /** http://127.0.0.1:PORT/signed/token: issues RS256-signed JWTs, for the OAUTH_JWKS listener. */
  signedUrl: string;
  /** http://127.0.0.1:PORT/jwks: the public key of the signed tokens, as a JWK Set. */
  jwksUrl: string;
  clientId: string;
  clientSecret: string;
  /** Token requests answered so far, successful or not (JWKS requests not counted). */
  readonly requests: number;
  /** Seconds each new token lives (expires_in and the JWT's exp). */
  expiresInSeconds: number;
  /** When set, token requests are held and never answered: an IdP that hangs. */
  hang: boolean;
  stop(): Promise<void>;
}

/**
 * The -D option a Kafka 4.x JVM needs to use the endpoint's token and JWKS URLs: Kafka refuses
 * OAuth URLs its org.apache.kafka.sasl.oauthbearer.allowed.urls system property does not list.
 */
export function allowedOAuthUrlsJvmArgs(endpoint: Pick<TokenEndpoint, 'signedUrl' | 'jwksUrl'>): string[] {
  return [`-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=${endpoint.signedUrl},${endpoint.jwksUrl}`];
}

/**
 * A local OAuth 2 token endpoint for the client credentials grant, standing in for an IdP:
 * it checks the client's HTTP Basic credentials and issues JWTs for `subject`, unsecured at
 * /token and RS256-signed at /signed/token with a key pair made here, whose public half it
 * serves at /jwks.
 */
export async function startTokenEndpoint(opts: { subject: string; clientId?: string; clientSecret?: string; expiresInSeconds?: number }): Promise<TokenEndpoint> {
  const clientId = opts.clientId ?? 'lagbot-client';
  const clientSecret = opts.clientSecret ?? 'oauth-secret-for-tests';
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const kid = `lagbot-test-${randomBytes(4).toString('hex')}`;
  const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] };
  const held = new Set<ServerResponse>();
  const state = { requests: 0, expiresInSeconds: opts.expiresInSeconds ?? 3600, hang: false };
  const server = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const json = (status: number, o: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(o));
      };
      if (req.method === 'GET' && req.url === '/jwks') return json(200, jwks);
      state.requests += 1;
      if (state.hang) {
        held.add(res);
        return;
      }
      const form = new URLSearchParams(body);
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const [id, secret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':').map((s) => decodeURIComponent(s.replace(/\+/g, ' '))) : [];
      const signed = req.url === '/signed/token';
      if (req.method !== 'POST' || (req.url !== '/token' && !signed)) return json(404, { error: 'not_found' });
      if (form.get('grant_type') !== 'client_credentials') return json(400, { error: 'unsupported_grant_type' });
      if (id !== clientId || secret !== clientSecret) return json(401, { error: 'invalid_client', error_description: 'Invalid client credentials' });
      const scope = form.get('scope');
      let token: string;
      if (signed) {
        // Whole seconds, as RFC 7519's NumericDate is usually sent. Kafka's validators read a
        // scope string as one scope and an array as a scope each: the array says what was asked.
        const now = Math.floor(Date.now() / 1000);
        const claims = { sub: opts.subject, iat: now, exp: now + state.expiresInSeconds, ...(scope ? { scope: scope.split(' ').filter((s) => s !== '') } : {}) };
        token = signedJwt(claims, privateKey, kid);
      } else {
        const now = Date.now() / 1000;
        token = unsecuredJwt({ sub: opts.subject, iat: now, exp: now + state.expiresInSeconds, ...(scope ? { scope } : {}) });
      }
      json(200, { access_token: token, token_type: 'Bearer', expires_in: state.expiresInSeconds });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/token`,
    signedUrl: `${base}/signed/token`,
    jwksUrl: `${base}/jwks`,
    clientId,
    clientSecret,
    get requests() {
      return state.requests;
    },
    get expiresInSeconds() {
      return state.expiresInSeconds;
    },
    set expiresInSeconds(s: number) {
      state.expiresInSeconds = s;
    },
    get hang() {
      return state.hang;
    },
    set hang(h: boolean) {
      state.hang = h;
    },
    async stop() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A JWS (RFC 7515) of `claims`, RS256 with `key`, its header naming the JWKS key `kid`. */
function signedJwt(claims: Record<string, unknown>, key: KeyObject, kid: string): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${part({ alg: 'RS256', typ: 'JWT', kid })}.${part(claims)}`;
  return `${input}.${cryptoSign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

export interface CapturingProxy {
  /** "127.0.0.1:PORT" to give the client instead of the broker. */
  address: string;
  /** The auth bytes of every SaslAuthenticate request that passed through, as the broker received them. */
  saslAuthenticatePayloads(): Buffer[];
  stop(): Promise<void>;
}

const SASL_AUTHENTICATE = 36;

/**
 * A TCP proxy in front of one broker listener that keeps what the client sent, to show
 * what reached the broker. Kafka frames are read as the client wrote them: int32 size,
 * then the request header (api key, version, correlation id, client id) and the body;
 * SaslAuthenticate v0/v1's body is its auth bytes, length-prefixed.
 */
export async function startCapturingProxy(target: string): Promise<CapturingProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const streams: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server = createTcpServer((client) => {
    const chunks: Buffer[] = [];
    streams.push(chunks);
    const upstream = connect({ host, port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (b: Buffer) => chunks.push(Buffer.from(b)));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${own}`,
    saslAuthenticatePayloads() {
      const found: Buffer[] = [];
      for (const chunks of streams) {
        const bytes = Buffer.concat(chunks);
        for (let at = 0; at + 4 <= bytes.length; ) {
          const size = bytes.readInt32BE(at);
          const frame = bytes.subarray(at + 4, at + 4 + size);
          at += 4 + size;
          if (frame.length < 10 || frame.readInt16BE(0) !== SASL_AUTHENTICATE) continue;
          const clientIdLength = frame.readInt16BE(8);
          const body = 10 + Math.max(0, clientIdLength);
          const authLength = frame.readInt32BE(body);
          found.push(frame.subarray(body + 4, body + 4 + authLength));
        }
      }
      return found;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
