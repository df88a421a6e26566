import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../src/config/clusters.js';
import { CachedToken, type IssuedToken } from '../../src/kafka/auth/cached-token.js';
import { requestClientCredentialsToken } from '../../src/kafka/auth/client-credentials.js';
import { awsSigner, decodeMskToken } from '../../src/kafka/auth/msk-iam.js';
import { BearerTokenRefusedError, oauthBearerMechanism } from '../../src/kafka/auth/oauthbearer.js';
import { saslSetup } from '../../src/kafka/auth/sasl.js';
import { KafkaSetupError } from '../../src/kafka/auth/setup-error.js';
import { tlsOptions } from '../../src/kafka/auth/tls.js';
import { createKafkaLag } from '../../src/kafka/connect.js';
import { systemClock } from '../../src/core/ports.js';
import { createLogger } from '../../src/log/logger.js';
import { makeTestPki, type TestPki } from '../../tools/kafka-testbed/security.js';

function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function cluster(overrides: Partial<ClusterConfig>): ClusterConfig {
  return {
    name: 'prod-eu',
    brokers: ['b1.prod-eu:9093'],
    clientId: 'lagbot',
    tls: null,
    sasl: null,
    connectionTimeoutMs: 3_000,
    requestTimeoutMs: 10_000,
    readDeadlineMs: 8_000,
    watch: null,
    channel: null,
    ...overrides,
  };
}

describe('CachedToken', () => {
  function issuer(lifetimeMs: number | null) {
    const calls: number[] = [];
    let fail: Error | null = null;
    const issue = async (): Promise<IssuedToken> => {
      calls.push(calls.length + 1);
      if (fail) throw fail;
      return { value: `token-${calls.length}`, lifetimeMs };
    };
    return { issue, calls, failWith: (e: Error | null) => (fail = e) };
  }

  it('asks once, serves the token until 80% of its lifetime, then asks again', async () => {
    const clock = manualClock();
    const source = issuer(100_000);
    const token = new CachedToken(source.issue, clock);
    expect(await token.get()).toBe('token-1');
    clock.advance(79_999);
    expect(await token.get()).toBe('token-1');
    expect(source.calls).toHaveLength(1);
    clock.advance(1);
    expect(await token.get()).toBe('token-2');
    expect(source.calls).toHaveLength(2);
  });

  it('sends one request however many connections ask at once', async () => {
    const source = issuer(60_000);
    const token = new CachedToken(source.issue, manualClock());
    const values = await Promise.all([token.get(), token.get(), token.get()]);
    expect(values).toEqual(['token-1', 'token-1', 'token-1']);
    expect(source.calls).toHaveLength(1);
  });

  it('keeps a still valid token when a refresh fails, retries after a pause, and fails once it has expired', async () => {
    const clock = manualClock();
    const source = issuer(100_000);
    const token = new CachedToken(source.issue, clock, { retryAfterMs: 5_000 });
    await token.get();
    clock.advance(85_000);
    source.failWith(new Error('IdP down'));
    expect(await token.get()).toBe('token-1');
    expect(source.calls).toHaveLength(2);
    clock.advance(1_000);
    expect(await token.get()).toBe('token-1');
    expect(source.calls, 'no new request within the pause').toHaveLength(2);
    clock.advance(14_000);
    await expect(token.get()).rejects.toThrow('IdP down');
  });

  it('assumes a short lifetime when the issuer gives none', async () => {
    const clock = manualClock();
    const source = issuer(null);
    const token = new CachedToken(source.issue, clock, { unknownLifetimeMs: 10_000 });
    await token.get();
    clock.advance(8_000);
    await token.get();
    expect(source.calls).toHaveLength(2);
  });
});

describe('the client credentials grant', () => {
  let url: string;
  let seen: { authorization?: string; contentType?: string; body: string } | null = null;
  let answer: (res: ServerResponse) => void = () => undefined;
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen = { authorization: req.headers.authorization, contentType: req.headers['content-type'], body };
      answer(res);
    });
  });

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('posts the grant as a form with HTTP Basic client authentication, and reads the token and its lifetime', async () => {
    answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'abc', token_type: 'Bearer', expires_in: '300' }));
    const token = await requestClientCredentialsToken({ tokenEndpoint: url, clientId: 'lagbot client', clientSecret: 's3cr:t&', scope: 'kafka.read' }, 2_000);
    expect(token).toEqual({ value: 'abc', lifetimeMs: 300_000 });
    expect(seen?.contentType).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(seen?.body))).toEqual({ grant_type: 'client_credentials', scope: 'kafka.read' });
    // RFC 6749 2.3.1: form-encoded id and secret in the Basic header.
    expect(Buffer.from((seen?.authorization ?? '').replace(/^Basic /, ''), 'base64').toString()).toBe('lagbot+client:s3cr%3At%26');
  });

  it('says what the endpoint answered when it refuses', async () => {
    answer = (res) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_scope', error_description: 'scope kafka.write is not allowed' }));
    await expect(requestClientCredentialsToken({ tokenEndpoint: url, clientId: 'c', clientSecret: 's' }, 2_000)).rejects.toThrow(
      `the token endpoint ${url} answered 400: invalid_scope (scope kafka.write is not allowed)`,
    );
    answer = (res) => res.writeHead(502).end('<html>Bad Gateway</html>');
    await expect(requestClientCredentialsToken({ tokenEndpoint: url, clientId: 'c', clientSecret: 's' }, 2_000)).rejects.toThrow(`answered 502: <html>Bad Gateway</html>`);
    answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    await expect(requestClientCredentialsToken({ tokenEndpoint: url, clientId: 'c', clientSecret: 's' }, 2_000)).rejects.toThrow('answered 200 without an access_token');
  });

  it('gives up after its timeout', async () => {
    answer = () => undefined;
    const started = Date.now();
    await expect(requestClientCredentialsToken({ tokenEndpoint: url, clientId: 'c', clientSecret: 's' }, 300)).rejects.toThrow(`the token endpoint ${url} did not answer within 0.3s`);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('takes the lifetime from the JWT when expires_in is missing', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const jwt = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.`;
    answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: jwt }));
    const token = await requestClientCredentialsToken({ tokenEndpoint: url, clientId: 'c', clientSecret: 's' }, 2_000);
    expect(token.lifetimeMs).toBeGreaterThan(590_000);
    expect(token.lifetimeMs).toBeLessThanOrEqual(600_000);
  });
});

describe('TLS options from PEM files', () => {
  let pki: TestPki;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lagbot-tls-unit-'));
    pki = await makeTestPki(dir);
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the CA, certificate and key, keeps verification on, and passes the servername', () => {
    const options = tlsOptions('prod-eu', { ca: pki.ca, cert: pki.client.cert, key: pki.clientEncryptedKey, passphrase: pki.clientKeyPassphrase, servername: 'kafka.prod-eu.internal' });
    expect(options.rejectUnauthorized).toBe(true);
    expect(options.servername).toBe('kafka.prod-eu.internal');
    expect(options.passphrase).toBe(pki.clientKeyPassphrase);
    expect(options.ca).toHaveLength(1);
    expect(String(options.cert)).toContain('BEGIN CERTIFICATE');
    expect(tlsOptions('prod-eu', {})).toEqual({ rejectUnauthorized: true });
  });

  it('names the cluster, the key and the file when one cannot be used', async () => {
    const setupError = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        expect(error).toBeInstanceOf(KafkaSetupError);
        return (error as Error).message;
      }
      throw new Error('expected a KafkaSetupError');
    };
    expect(setupError(() => tlsOptions('prod-eu', { ca: '/etc/x.pem' }))).toBe('cluster prod-eu: ssl.ca /etc/x.pem cannot be read (ENOENT)');
    expect(setupError(() => tlsOptions('prod-eu', { ca: pki.ca, cert: pki.client.cert, key: '/etc/lagbot.key' }))).toBe('cluster prod-eu: ssl.key /etc/lagbot.key cannot be read (ENOENT)');
    expect(setupError(() => tlsOptions('prod-eu', { ca: pki.client.key }))).toBe(`cluster prod-eu: ssl.ca ${pki.client.key} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    expect(setupError(() => tlsOptions('prod-eu', { cert: pki.client.cert, key: pki.clientEncryptedKey }))).toBe(
      `cluster prod-eu: ssl.key ${pki.clientEncryptedKey} is encrypted: name the variable holding its passphrase in ssl.passphraseEnv`,
    );
    expect(setupError(() => tlsOptions('prod-eu', { cert: pki.client.cert, key: pki.clientEncryptedKey, passphrase: 'wrong' }))).toBe(
      `cluster prod-eu: ssl.key ${pki.clientEncryptedKey} cannot be decrypted with the passphrase from ssl.passphraseEnv`,
    );
    expect(setupError(() => tlsOptions('prod-eu', { cert: pki.client.cert, key: pki.strangerClient.key }))).toBe(
      `cluster prod-eu: ssl.key ${pki.strangerClient.key} is not the key of ssl.cert ${pki.client.cert}`,
    );
    const notCert = join(dir, 'garbage.pem');
    await writeFile(notCert, 'hello');
    expect(setupError(() => tlsOptions('prod-eu', { cert: notCert, key: pki.client.key }))).toMatch(/^cluster prod-eu: ssl.cert .*garbage.pem is not a PEM certificate/);
  });

  it('createKafkaLag reads the files at once, so a missing one stops start-up', () => {
    expect(() => createKafkaLag(cluster({ tls: { ca: '/etc/lagbot/prod-eu-ca.pem' } }), systemClock, createLogger('silent'))).toThrow(
      new KafkaSetupError('prod-eu', 'ssl.ca /etc/lagbot/prod-eu-ca.pem cannot be read (ENOENT)'),
    );
  });
});

describe('SASL settings', () => {
  it('MSK IAM needs a region, from the cluster or AWS_REGION', () => {
    const config = cluster({ sasl: { mechanism: 'aws-msk-iam' } });
    expect(() => saslSetup(config, { clock: systemClock, env: {} })).toThrow(/^cluster prod-eu: sasl.region is not set, and neither is AWS_REGION/);
    expect(saslSetup(config, { clock: systemClock, env: { AWS_REGION: 'eu-west-1' } })?.identity.issuer).toBe('eu-west-1');
    expect(saslSetup(cluster({ sasl: { mechanism: 'aws-msk-iam', region: 'us-east-2' } }), { clock: systemClock, env: { AWS_REGION: 'eu-west-1' } })?.identity.issuer).toBe('us-east-2');
  });

  it("AWS's signer makes a presigned kafka-cluster:Connect URL for the chain's access key", async () => {
    const saved = { id: process.env['AWS_ACCESS_KEY_ID'], secret: process.env['AWS_SECRET_ACCESS_KEY'] };
    process.env['AWS_ACCESS_KEY_ID'] = 'AKIAUNITTEST00000001';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'unit-test-secret';
    try {
      const { token, expiryTime } = await awsSigner('eu-central-1');
      const decoded = decodeMskToken(token);
      expect(decoded?.url.host).toBe('kafka.eu-central-1.amazonaws.com');
      expect(decoded?.action).toBe('kafka-cluster:Connect');
      expect(decoded?.accessKeyId).toBe('AKIAUNITTEST00000001');
      expect(expiryTime - Date.now()).toBeGreaterThan(800_000);
    } finally {
      if (saved.id === undefined) delete process.env['AWS_ACCESS_KEY_ID'];
      else process.env['AWS_ACCESS_KEY_ID'] = saved.id;
      if (saved.secret === undefined) delete process.env['AWS_SECRET_ACCESS_KEY'];
      else process.env['AWS_SECRET_ACCESS_KEY'] = saved.secret;
    }
  });

  it('MSK IAM signs once per token lifetime, and a signer failure says so', async () => {
    const clock = manualClock(Date.now());
    let signed = 0;
    const sign = async (region: string) => {
      signed += 1;
      if (region === 'ap-south-1') throw new Error('Could not load credentials from any providers');
      return { token: Buffer.from(`https://kafka.${region}.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Credential=AKIAX%2F20261202%2F${region}%2Fkafka-cluster%2Faws4_request`).toString('base64url'), expiryTime: clock.now() + 900_000 };
    };
    const setup = saslSetup(cluster({ sasl: { mechanism: 'aws-msk-iam', region: 'eu-west-1' } }), { clock, env: {}, sign });
    const tokenOf = async (s: typeof setup) => {
      let sent = '';
      const mechanism = s?.options as ReturnType<typeof oauthBearerMechanism>;
      await mechanism
        .authenticationProvider({ host: 'b1', port: 9098, logger: undefined as never, saslAuthenticate: async ({ request }) => void (sent = (await request.encode()).subarray(4).toString()) })
        .authenticate();
      return sent;
    };
    const first = await tokenOf(setup);
    expect(first.startsWith('n,,\u0001auth=Bearer ') && first.endsWith('\u0001\u0001')).toBe(true);
    clock.advance(600_000);
    await tokenOf(setup);
    expect(signed).toBe(1);
    expect(setup?.identity.who()).toBe('AKIAX');
    clock.advance(200_000);
    await tokenOf(setup);
    expect(signed).toBe(2);

    const failing = saslSetup(cluster({ sasl: { mechanism: 'aws-msk-iam', region: 'ap-south-1' } }), { clock, env: {}, sign });
    await expect(tokenOf(failing)).rejects.toThrow('cannot sign an AWS MSK IAM token in ap-south-1: Could not load credentials from any providers');
  });

  it("OAUTHBEARER answers the broker's error challenge and reports its status", async () => {
    const sent: string[] = [];
    const mechanism = oauthBearerMechanism(async () => 'the-token');
    const challenge = Buffer.from('{"status":"invalid_token"}');
    const framed = Buffer.concat([Buffer.from([0, 0, 0, challenge.length]), challenge]);
    const authenticate = mechanism.authenticationProvider({
      host: 'b1',
      port: 9096,
      logger: undefined as never,
      saslAuthenticate: async <T,>({ request, response }: { request: { encode: () => Buffer | Promise<Buffer> }; response?: { decode: (b: Buffer) => Buffer | Promise<Buffer>; parse: (b: Buffer) => T } }) => {
        sent.push((await request.encode()).subarray(4).toString());
        if (!response) throw new Error('SASL_AUTHENTICATION_FAILED');
        return response.parse(await response.decode(framed));
      },
    });
    await expect(authenticate.authenticate()).rejects.toEqual(new BearerTokenRefusedError('invalid_token'));
    expect(sent).toEqual(['n,,\u0001auth=Bearer the-token\u0001\u0001', '\u0001']);
  });
});
