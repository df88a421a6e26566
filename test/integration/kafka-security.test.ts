import { ourRows, theirRowsByGroup } from '../support/consumer-groups.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterConfig, SaslSettings, TlsSettings } from '../../src/config/clusters.js';
import { LagUnavailableError, systemClock } from '../../src/core/ports.js';
import type { GroupLag } from '../../src/core/protocol.js';
import { createKafkaLag } from '../../src/kafka/connect.js';
import { createLogger } from '../../src/log/logger.js';
import { freePorts } from '../../tools/kafka-testbed/broker.js';
import {
  allowedOAuthUrlsJvmArgs,
  DEFAULT_USERS,
  LISTENER,
  MTLS_PRINCIPAL,
  startCapturingProxy,
  startSecureKafka,
  startTokenEndpoint,
  writeClientProperties,
  type ClientSecurity,
  type SecureKafka,
  type TokenEndpoint,
} from '../../tools/kafka-testbed/security.js';
import { kafkaConsumerGroups } from '../../tools/kafka-testbed/tools.js';
import { createTopic, produce, uniqueName } from '../support/kafka.js';

/**
 * lagbot against one real broker with every listener operators use: TLS with a CA made for
 * this run, mutual TLS, SASL PLAIN and SCRAM over TLS and plaintext, OAUTHBEARER with a local
 * token endpoint (signed JWTs checked against its JWKS, and unsecured ones), and TLS listeners
 * whose certificate expired or names another host. Its rows are compared with
 * kafka-consumer-groups run over the same listener with the same credentials, and every
 * refusal must come back within seconds as a sentence naming the cluster.
 *
 * Authorization is on (StandardAuthorizer): lagbot's principals get Describe on groups and
 * topics and nothing else, which is the README's claim of what lagbot needs.
 */

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const CLUSTER = 'prod-eu';
/** RFC 7628's separator. */
const SOH = '\u0001';
const PRODUCED = [3_000, 12_000, 2_000];
const COMMITTED = [2_500, 1_200, 1_900];
/** What "within seconds" means here: the read deadline is 8 s, every refusal must come well before (the slowest is a token endpoint that never answers: 4 s). */
const FAILS_WITHIN_MS = 6_000;
/** The broker asks OAUTHBEARER clients to log in again this often, so token refresh happens on live connections. */
const OAUTH_REAUTH_MS = 2_000;

let kafka: SecureKafka;
let admin: Admin;
let tokens: TokenEndpoint;
let work: string;
const topic = uniqueName('payments');
const group = uniqueName('payments-consumer');

function cluster(address: string, tls: TlsSettings | null, sasl: SaslSettings | null): ClusterConfig {
  return {
    name: CLUSTER,
    brokers: [address],
    clientId: 'lagbot',
    tls,
    sasl,
    connectionTimeoutMs: 3_000,
    requestTimeoutMs: 10_000,
    readDeadlineMs: 8_000,
    watch: null,
    channel: null,
  };
}

async function withLag<T>(config: ClusterConfig, use: (lag: ReturnType<typeof createKafkaLag>) => Promise<T>, env?: Record<string, string | undefined>): Promise<T> {
  // Below the broker's 2 s session (OAUTH_REAUTH_MS), and above its 1 s minimum between logins.
  const lag = createKafkaLag(config, systemClock, createLogger('silent'), { reauthenticationThresholdMs: 500, ...(env ? { env } : {}) });
  try {
    return await use(lag);
  } finally {
    await lag.stop();
  }
}

/** lagbot's rows of the group and kafka-consumer-groups' rows, over the same listener with the same credentials. */
async function bothReadings(config: ClusterConfig, security: ClientSecurity, name: string, jvmArgs: string[] = []) {
  const lag = await withLag(config, (l) => l.reader.readGroup(group));
  expect(lag, 'lagbot found the group').not.toBeNull();
  const properties = await writeClientProperties(join(work, `${name}.properties`), security);
  const address = config.brokers[0] as string;
  const out = await kafkaConsumerGroups({ bootstrap: address, classpath: kafka.broker.classpath }, ['--describe', '--group', group, '--command-config', properties], { jvmArgs });
  const theirs = theirRowsByGroup(out).get(group) ?? [];
  return { ours: ourRows(lag as GroupLag), theirs, totalLag: (lag as GroupLag).totalLag };
}

/** The refusal lagbot gives for a read, and how long it took. */
async function refusal(config: ClusterConfig, env?: Record<string, string | undefined>): Promise<{ message: string; ms: number }> {
  const started = Date.now();
  const error: unknown = await withLag(config, (l) => l.reader.readGroup(group), env).then(
    () => null,
    (e: unknown) => e,
  );
  const ms = Date.now() - started;
  expect(error, 'the read failed').toBeInstanceOf(LagUnavailableError);
  const unavailable = error as LagUnavailableError;
  expect(unavailable.cluster).toBe(CLUSTER);
  // What the user sees is the message: a sentence, never a stack.
  expect(unavailable.message).not.toMatch(/\n\s+at /);
  expect(ms).toBeLessThan(FAILS_WITHIN_MS);
  return { message: unavailable.message, ms };
}

function describeAcls(principal: string) {
  const allow = (resourceType: number) => ({
    resourceType,
    resourceName: '*',
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal,
    host: '*',
    operation: AclOperationTypes.DESCRIBE,
    permissionType: AclPermissionTypes.ALLOW,
  });
  return [allow(AclResourceTypes.GROUP), allow(AclResourceTypes.TOPIC)];
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'lagbot-security-'));
  // First: the broker's OAUTH_JWKS listener reads the endpoint's JWKS as it starts.
  tokens = await startTokenEndpoint({ subject: DEFAULT_USERS.username });
  kafka = await startSecureKafka({ oauthReauthMs: OAUTH_REAUTH_MS, oauthIssuer: tokens });
  // The test's own client speaks PLAINTEXT, a super user: it sets the scene and the ACLs.
  const client = new kafkajs.Kafka({ brokers: [kafka.broker.bootstrap], clientId: 'lagbot-test', logLevel: kafkajs.logLevel.NOTHING });
  admin = client.admin();
  await admin.connect();
  await createTopic(admin, topic, 3);
  await produce(client, topic, PRODUCED);
  await admin.setOffsets({ groupId: group, topic, partitions: COMMITTED.map((offset, partition) => ({ partition, offset: String(offset) })) });
  await admin.createAcls({ acl: [...describeAcls(`User:${kafka.users.username}`), ...describeAcls(MTLS_PRINCIPAL)] });
}, 180_000);

afterAll(async () => {
  await admin?.disconnect();
  await tokens?.stop();
  await kafka?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('lagbot reads lag over every listener kind, as kafka-consumer-groups does over the same one', () => {
  const expected = [
    [0, 2_500, 3_000, 500],
    [1, 1_200, 12_000, 10_800],
    [2, 1_900, 2_000, 100],
  ];

  async function expectSameRows(config: ClusterConfig, security: ClientSecurity, name: string, jvmArgs?: string[]) {
    const { ours, theirs, totalLag } = await bothReadings(config, security, name, jvmArgs);
    expect(ours.map((r) => [r.partition, r.committedOffset, r.logEndOffset, r.lag])).toEqual(expected);
    expect(ours).toEqual(theirs);
    expect(totalLag).toBe(11_400);
  }

  it('TLS with a private CA', async () => {
    await expectSameRows(cluster(kafka.listener(LISTENER.ssl), { ca: kafka.pki.ca }, null), { protocol: 'SSL', ca: kafka.pki.ca }, 'ssl');
  });

  it('mutual TLS, the client key encrypted with a passphrase', async () => {
    const tls = { ca: kafka.pki.ca, cert: kafka.pki.client.cert, key: kafka.pki.clientEncryptedKey, passphrase: kafka.pki.clientKeyPassphrase };
    await expectSameRows(cluster(kafka.listener(LISTENER.mtls), tls, null), { protocol: 'SSL', ca: kafka.pki.ca, keystore: kafka.pki.client.keystore }, 'mtls');
  });

  it('TLS with the servername override: the certificate names localhost, lagbot connects to 127.0.0.1', async () => {
    // Kafka's Java client has no SNI or host name override: it runs over the same SSL listener
    // with the same CA, checking the certificate's IP SAN 127.0.0.1.
    await expectSameRows(cluster(kafka.listener(LISTENER.ssl), { ca: kafka.pki.ca, servername: 'localhost' }, null), { protocol: 'SSL', ca: kafka.pki.ca }, 'ssl-servername');
  });

  for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
    it(`SASL ${mechanism.toUpperCase()} over TLS, the user created at format time`, async () => {
      const password = mechanism === 'scram-sha-256' ? kafka.users.scram256Password : kafka.users.scram512Password;
      const username = kafka.users.username;
      await expectSameRows(
        cluster(kafka.listener(LISTENER.saslSsl), { ca: kafka.pki.ca }, { mechanism, username, password }),
        { protocol: 'SASL_SSL', ca: kafka.pki.ca, sasl: { mechanism: mechanism === 'scram-sha-256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512', username, password } },
        `${mechanism}-ssl`,
      );
    });
  }

  it('SASL SCRAM-SHA-512 over plaintext', async () => {
    const { username, scram512Password: password } = kafka.users;
    await expectSameRows(
      cluster(kafka.listener(LISTENER.saslPlaintext), null, { mechanism: 'scram-sha-512', username, password }),
      { protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'SCRAM-SHA-512', username, password } },
      'scram-plaintext',
    );
  });

  it('SASL PLAIN over TLS (Confluent Cloud\'s way) and over plaintext', async () => {
    const { username, plainPassword: password } = kafka.users;
    await expectSameRows(
      cluster(kafka.listener(LISTENER.saslSsl), { ca: kafka.pki.ca }, { mechanism: 'plain', username, password }),
      { protocol: 'SASL_SSL', ca: kafka.pki.ca, sasl: { mechanism: 'PLAIN', username, password } },
      'plain-ssl',
    );
    await expectSameRows(
      cluster(kafka.listener(LISTENER.saslPlaintext), null, { mechanism: 'plain', username, password }),
      { protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'PLAIN', username, password } },
      'plain-plaintext',
    );
  });

  it('SASL OAUTHBEARER with a signed token from the client credentials grant, checked by the broker against the JWKS', async () => {
    // Both clients ask the same endpoint with the same client id, secret and scope, and log in
    // to the listener that checks the tokens' RS256 signature: Kafka's own OAuth client takes
    // only signed JWTs, which is why this is not the unsecured OAUTH listener.
    const credentials = { tokenEndpoint: tokens.signedUrl, clientId: tokens.clientId, clientSecret: tokens.clientSecret, scope: 'kafka' };
    const before = tokens.requests;
    await expectSameRows(
      cluster(kafka.listener(LISTENER.oauthJwks), null, { mechanism: 'oauthbearer', ...credentials }),
      { protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'OAUTHBEARER', ...credentials } },
      'oauth-jwks',
      allowedOAuthUrlsJvmArgs(tokens),
    );
    expect(tokens.requests - before, 'one token for lagbot, one for the CLI').toBeGreaterThanOrEqual(2);
  });

  it('OAUTHBEARER: one token for many logins, a new one before the old expires, and the broker takes it', async () => {
    tokens.expiresInSeconds = 4;
    try {
      const sasl: SaslSettings = { mechanism: 'oauthbearer', tokenEndpoint: tokens.url, clientId: tokens.clientId, clientSecret: tokens.clientSecret };
      await withLag(cluster(kafka.listener(LISTENER.oauth), null, sasl), async (lag) => {
        const before = tokens.requests;
        const started = Date.now();
        expect((await lag.reader.readGroup(group))?.totalLag).toBe(11_400);
        expect(tokens.requests - before).toBe(1);
        // The broker ends each login after 2 s (connections.max.reauth.ms), so kafkajs logs in
        // again on live connections: the cached token serves those logins until 80% of its 4 s.
        await sleep(1_000);
        expect((await lag.reader.readGroup(group))?.totalLag).toBe(11_400);
        expect(tokens.requests - before).toBe(1);
        await sleep(Math.max(0, started + 3_400 - Date.now()));
        expect((await lag.reader.readGroup(group))?.totalLag).toBe(11_400);
        expect(tokens.requests - before, 'refreshed at 80% of the lifetime, before the 4 s expiry').toBe(2);
        // Past the first token's expiry: the broker (which checks exp) still takes lagbot's logins.
        await sleep(Math.max(0, started + 4_600 - Date.now()));
        expect((await lag.reader.readGroup(group))?.totalLag).toBe(11_400);
      });
    } finally {
      tokens.expiresInSeconds = 3600;
    }
  });
});

describe('refusals say what is wrong, naming the cluster, within seconds', () => {
  it('a wrong SCRAM password', async () => {
    const { message } = await refusal(cluster(kafka.listener(LISTENER.saslSsl), { ca: kafka.pki.ca }, { mechanism: 'scram-sha-512', username: 'lagbot', password: 'not-the-password' }));
    expect(message).toMatch(/^authentication failed for user lagbot on prod-eu \(SASL SCRAM-SHA-512\): /);
  });

  it('a wrong PLAIN password', async () => {
    const { message } = await refusal(cluster(kafka.listener(LISTENER.saslPlaintext), null, { mechanism: 'plain', username: 'lagbot', password: 'not-the-password' }));
    expect(message).toBe('authentication failed for user lagbot on prod-eu (SASL PLAIN): Authentication failed: Invalid username or password');
  });

  it('a broker certificate signed by a CA lagbot does not trust', async () => {
    const address = kafka.listener(LISTENER.ssl);
    const { message } = await refusal(cluster(address, { ca: kafka.pki.otherCa }, null));
    expect(message).toBe(`certificate not trusted: ${address} of prod-eu presents a certificate not signed by the CA in ssl.ca (${kafka.pki.otherCa}) (unable to verify the first certificate)`);
    const system = await refusal(cluster(address, {}, null));
    expect(system.message).toMatch(/^certificate not trusted: .* not signed by any system CA; set ssl\.ca to the PEM file of the cluster's CA/);
  });

  it('a broker certificate for another host name', async () => {
    const address = kafka.listener(LISTENER.wrongHost);
    const { message } = await refusal(cluster(address, { ca: kafka.pki.ca }, null));
    expect(message).toMatch(new RegExp(`^certificate is for another host: ${address} of prod-eu presents a certificate that does not name the host 127\\.0\\.0\\.1; `));
    // The override is checked too: a name the certificate does not hold is refused.
    const overridden = await refusal(cluster(kafka.listener(LISTENER.ssl), { ca: kafka.pki.ca, servername: 'kafka.prod-eu.internal' }, null));
    expect(overridden.message).toMatch(/^certificate is for another host: .* does not name ssl\.servername kafka\.prod-eu\.internal/);
  });

  it('an expired broker certificate', async () => {
    const address = kafka.listener(LISTENER.expired);
    const { message } = await refusal(cluster(address, { ca: kafka.pki.ca }, null));
    expect(message).toBe(`certificate expired: ${address} of prod-eu presents a certificate past its expiry date, which its operators must renew (certificate has expired)`);
  });

  it('mutual TLS without a client certificate, and with one the broker does not trust', async () => {
    const address = kafka.listener(LISTENER.mtls);
    const none = await refusal(cluster(address, { ca: kafka.pki.ca }, null));
    expect(none.message).toMatch(new RegExp(`^client certificate refused: ${address} of prod-eu refused the connection: the listener requires a client certificate \\(mutual TLS\\); set ssl.cert and ssl.key`));
    const stranger = await refusal(cluster(address, { ca: kafka.pki.ca, cert: kafka.pki.strangerClient.cert, key: kafka.pki.strangerClient.key }, null));
    expect(stranger.message).toContain(`client certificate refused: ${address} of prod-eu refused lagbot's client certificate ssl.cert (${kafka.pki.strangerClient.cert})`);
  });

  it('TLS spoken to a plaintext listener', async () => {
    const address = kafka.broker.bootstrap;
    const { message } = await refusal(cluster(address, { ca: kafka.pki.ca }, null));
    expect(message).toBe(
      `Cannot reach Kafka at ${address} while reading group ${group}: Connection error: Client network socket disconnected before secure TLS connection was established; ` +
        `${address} closed the connection during the TLS handshake: it may be a plaintext listener (ssl is set for prod-eu)`,
    );
  });

  it('plaintext spoken to a TLS listener', async () => {
    const address = kafka.listener(LISTENER.ssl);
    const { message } = await refusal(cluster(address, null, null));
    expect(message).toBe(`${address} of prod-eu speaks TLS, and lagbot spoke plaintext to it: set ssl for prod-eu (ssl: true, or ssl.ca with the cluster's CA)`);
  });

  it('no SASL to a SASL listener, and SASL to a listener without it', async () => {
    const sasl = kafka.listener(LISTENER.saslPlaintext);
    const without = await refusal(cluster(sasl, null, null));
    expect(without.message).toBe(
      `Cannot reach Kafka at ${sasl} while reading group ${group}: Closed connection; ${sasl} closed the connection at lagbot's first request: the listener may need TLS (ssl is not set for prod-eu) or SASL (sasl is not set for prod-eu)`,
    );
    const extra = await refusal(cluster(kafka.broker.bootstrap, null, { mechanism: 'scram-sha-512', username: 'lagbot', password: 'x' }));
    expect(extra.message).toMatch(/^SASL is set for prod-eu, but its listener takes no SASL .*: is it the plaintext or TLS-only port\?$/);
  });

  it('a user the broker knows but who has no ACLs', async () => {
    const { message } = await refusal(cluster(kafka.listener(LISTENER.saslPlaintext), null, { mechanism: 'scram-sha-512', username: 'nobody', password: kafka.users.scram512Password }));
    expect(message).toMatch(/prod-eu.*user nobody.*lagbot may lack Describe on the group/);
  });

  it('OAUTHBEARER: a wrong client secret, an endpoint that is down, one that never answers', async () => {
    const address = kafka.listener(LISTENER.oauth);
    const oauth = (tokenEndpoint: string, clientSecret: string): SaslSettings => ({ mechanism: 'oauthbearer', tokenEndpoint, clientId: tokens.clientId, clientSecret });
    const wrong = await refusal(cluster(address, null, oauth(tokens.url, 'not-the-secret')));
    expect(wrong.message).toBe(`cannot get an OAuth token for prod-eu: the token endpoint ${tokens.url} answered 401: invalid_client (Invalid client credentials)`);
    const [closedPort] = await freePorts(1);
    const down = await refusal(cluster(address, null, oauth(`http://127.0.0.1:${closedPort}/token`, tokens.clientSecret)));
    expect(down.message).toBe(`cannot get an OAuth token for prod-eu: the token endpoint http://127.0.0.1:${closedPort}/token cannot be reached (ECONNREFUSED)`);
    tokens.hang = true;
    try {
      const hung = await refusal(cluster(address, null, oauth(tokens.url, tokens.clientSecret)));
      expect(hung.message).toBe(`cannot get an OAuth token for prod-eu: the token endpoint ${tokens.url} did not answer within 4s`);
    } finally {
      tokens.hang = false;
    }
  });

  it('OAUTHBEARER: a token the broker refuses', async () => {
    // The broker's validator checks exp; a token that expired a minute ago is refused at login.
    const anonymous = await startTokenEndpoint({ subject: kafka.users.username, expiresInSeconds: -60 });
    try {
      const { message } = await refusal(cluster(kafka.listener(LISTENER.oauth), null, { mechanism: 'oauthbearer', tokenEndpoint: anonymous.url, clientId: anonymous.clientId, clientSecret: anonymous.clientSecret }));
      expect(message).toMatch(new RegExp(`^authentication failed for OAuth client lagbot-client on prod-eu \\(SASL OAUTHBEARER, token from ${anonymous.url}\\): the broker refused the token \\(invalid_token\\)$`));
    } finally {
      await anonymous.stop();
    }
  });

  it('OAUTHBEARER: the JWKS listener refuses an unsigned token, and one signed by a key not in its JWKS', async () => {
    const address = kafka.listener(LISTENER.oauthJwks);
    const unsigned = await refusal(cluster(address, null, { mechanism: 'oauthbearer', tokenEndpoint: tokens.url, clientId: tokens.clientId, clientSecret: tokens.clientSecret }));
    expect(unsigned.message).toMatch(/: the broker refused the token \(invalid_token\)$/);
    const stranger = await startTokenEndpoint({ subject: kafka.users.username });
    try {
      const { message } = await refusal(cluster(address, null, { mechanism: 'oauthbearer', tokenEndpoint: stranger.signedUrl, clientId: stranger.clientId, clientSecret: stranger.clientSecret }));
      expect(message).toMatch(/: the broker refused the token \(invalid_token\)$/);
    } finally {
      await stranger.stop();
    }
  });
});

describe('AWS MSK IAM, which cannot reach AWS from here', () => {
  it('sends the signer\'s presigned kafka-cluster:Connect token as the OAUTHBEARER token, and says clearly when the broker refuses it', async () => {
    const proxy = await startCapturingProxy(kafka.listener(LISTENER.oauth));
    // The signer's default credential chain reads these first; fixed so the token can be checked.
    const saved = { id: process.env['AWS_ACCESS_KEY_ID'], secret: process.env['AWS_SECRET_ACCESS_KEY'], session: process.env['AWS_SESSION_TOKEN'], profile: process.env['AWS_PROFILE'] };
    process.env['AWS_ACCESS_KEY_ID'] = 'AKIALAGBOTTEST000001';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'lagbot-test-secret-key-not-real';
    delete process.env['AWS_SESSION_TOKEN'];
    delete process.env['AWS_PROFILE'];
    try {
      const { message } = await refusal(cluster(proxy.address, null, { mechanism: 'aws-msk-iam', region: 'eu-west-1' }));
      expect(message).toMatch(/^authentication failed for AWS access key AKIALAGBOTTEST000001 on prod-eu \(AWS MSK IAM, eu-west-1; the key's IAM policy must allow kafka-cluster:Connect on this cluster\): the broker refused the token \(invalid_token\)$/);

      const payloads = proxy.saslAuthenticatePayloads();
      expect(payloads.length).toBeGreaterThan(0);
      // RFC 7628's client first message: "n,," then ^A-separated key=value pairs.
      const first = (payloads[0] as Buffer).toString('utf8');
      const bearer = new RegExp(`^n,,${SOH}auth=Bearer ([A-Za-z0-9_-]+)${SOH}${SOH}$`).exec(first);
      expect(bearer, `an OAUTHBEARER client first message: ${JSON.stringify(first)}`).not.toBeNull();
      const url = new URL(Buffer.from((bearer as RegExpExecArray)[1] as string, 'base64url').toString('utf8'));
      expect(url.origin).toBe('https://kafka.eu-west-1.amazonaws.com');
      expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
      expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIALAGBOTTEST000001\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/);
      expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
      expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      expect(url.searchParams.get('User-Agent')).toMatch(/^aws-msk-iam-sasl-signer-js\//);
    } finally {
      for (const [key, value] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret], ['AWS_SESSION_TOKEN', saved.session], ['AWS_PROFILE', saved.profile]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await proxy.stop();
    }
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
