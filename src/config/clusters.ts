import { z } from 'zod';
import { AccessRulesSchema, type AccessRulesFile } from './access.js';

/**
 * The Kafka clusters lagbot watches: a `clusters:` list, or the single `kafka:` section of
 * the first version, which is one cluster named `default`. Secrets never sit in the file:
 * each names the environment variable that holds it, and is read from there at start.
 */

const brokerAddress = z.string().regex(/^[^\s,:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:9092');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable, e.g. KAFKA_PROD_EU_PASSWORD');
const channelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'a channel id such as C0123ABCD (not a #name)');
export const CLUSTER_NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

const TlsSchema = z
  .strictObject({
    /** PEM file of the CA(s) that signed the brokers' certificates; the system CAs when absent. */
    ca: z.string().min(1).optional(),
    /** PEM client certificate and key, for listeners that require mutual TLS. */
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    /** The environment variable holding the passphrase of an encrypted key. */
    passphraseEnv: envName.optional(),
    /** The name to send as SNI and to check the broker's certificate against, when it is not the broker's host. */
    servername: z.string().min(1).optional(),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), { message: 'cert and key go together: a client certificate needs its key, and a key its certificate' })
  .refine((t) => t.passphraseEnv === undefined || t.key !== undefined, { message: 'passphraseEnv is the passphrase of key, which is not set' });

const PasswordSasl = z.strictObject({
  mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
  username: z.string().min(1),
  passwordEnv: envName.optional(),
});

/** Where the client secret goes: never in cleartext off this machine, never with credentials in the URL (messages quote it). */
const tokenEndpoint = z
  .url()
  .refine((u) => { const url = new URL(u); return url.username === '' && url.password === ''; }, { message: 'no user or password in the URL: the secret comes from clientSecretEnv' })
  .refine((u) => { const url = new URL(u); return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)); }, { message: 'an https:// URL: over http the client secret would cross the network in cleartext' });

const OauthSasl = z.strictObject({
  mechanism: z.literal('oauthbearer'),
  /** OAuth 2 token endpoint for the client credentials grant. */
  tokenEndpoint,
  clientId: z.string().min(1),
  clientSecretEnv: envName,
  scope: z.string().min(1).optional(),
});

const IamSasl = z.strictObject({
  mechanism: z.literal('aws-msk-iam'),
  /** The cluster's AWS region; AWS_REGION from the default chain when absent. */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1').optional(),
});

const SaslSchema = z.discriminatedUnion('mechanism', [PasswordSasl, OauthSasl, IamSasl]);

const WatchSchema = z.strictObject({
  include: z.array(z.string().min(1)).default(['*']),
  exclude: z.array(z.string().min(1)).default([]),
});

/** Connection settings shared by `kafka:` and each `clusters:` entry. */
const connection = {
  brokers: z.array(brokerAddress).min(1, 'at least one broker (host:port)'),
  clientId: z.string().min(1).default('lagbot'),
  ssl: z.union([z.boolean(), TlsSchema]).default(false),
  sasl: SaslSchema.optional(),
  connectionTimeoutMs: z.number().int().positive().default(3_000),
  requestTimeoutMs: z.number().int().positive().default(10_000),
  readDeadlineMs: z.number().int().positive().default(8_000),
  flexibleRequests: z.boolean().default(true),
};

/** MSK serves IAM on its TLS listener only: IAM without ssl can never connect. */
function mskOverTls(c: { sasl?: { mechanism: string } | undefined; ssl: unknown }): boolean {
  return c.sasl?.mechanism !== 'aws-msk-iam' || c.ssl !== false;
}
const MSK_OVER_TLS = 'sasl aws-msk-iam needs ssl (ssl: true): MSK serves IAM on its TLS port (9098) only';

/** The `kafka:` section's keys, as the file may leave out brokers (KAFKA_BROKERS has them). */
export const KafkaShape = z.strictObject(connection);
export const KafkaSchema = KafkaShape.refine(mskOverTls, { message: MSK_OVER_TLS, path: ['ssl'] });

export const ClusterSchema = z
  .strictObject({
    name: z
      .string()
      .regex(CLUSTER_NAME, 'lower-case letters, digits and dashes, such as prod-eu')
      // `default` is the one cluster of the `kafka:` form, which messages leave unnamed.
      .refine((n) => n !== 'default', { message: '"default" is the unnamed cluster of the one-cluster kafka form; give this cluster the name people call it' }),
    ...connection,
    /** Groups watched on this cluster; the top-level `watch` when absent. */
    watch: WatchSchema.optional(),
    /** Incidents of this cluster go here unless a `groups` rule names another channel. */
    channel: channelId.optional(),
    /** Who may act on this cluster's incidents and read it with /lag, unless a groups rule says otherwise. */
    access: AccessRulesSchema.optional(),
  })
  .refine(mskOverTls, { message: MSK_OVER_TLS, path: ['ssl'] });

export type TlsFiles = z.infer<typeof TlsSchema>;
export type SaslFile = z.infer<typeof SaslSchema>;

/** TLS as the Kafka adapter needs it: file paths still (read at start), the passphrase resolved. */
export interface TlsSettings {
  ca?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
  servername?: string;
}

export type SaslSettings =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'oauthbearer'; tokenEndpoint: string; clientId: string; clientSecret: string; scope?: string }
  | { mechanism: 'aws-msk-iam'; region?: string };

/** One cluster, validated, its secrets read from the environment. */
export interface ClusterConfig {
  name: string;
  brokers: string[];
  clientId: string;
  /** null: plaintext. `{}`: TLS with the system CAs. */
  tls: TlsSettings | null;
  sasl: SaslSettings | null;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  readDeadlineMs: number;
  /**
   * false: only kafkajs' own requests (one OffsetFetch per group, no KIP-848 members), for a
   * broker whose newer requests misbehave. Absent means true.
   */
  flexibleRequests?: boolean;
  /** null: the top-level `watch`. */
  watch: { include: string[]; exclude: string[] } | null;
  /** null: the top-level `alerting.channel`. */
  channel: string | null;
  /** This cluster's access rules; absent: the top-level `access` (and groups rules) decide. */
  access?: AccessRulesFile;
}

type Env = Record<string, string | undefined>;
type ClusterFile = z.infer<typeof ClusterSchema>;

/** The password of the first version's `kafka.sasl`, which had no passwordEnv. */
export const LEGACY_PASSWORD_ENV = 'KAFKA_SASL_PASSWORD';

/**
 * A cluster entry with its secrets resolved; every missing secret is a problem naming the
 * key and the variable, so all of them are reported together.
 */
export function resolveCluster(file: ClusterFile, env: Env, where: string, problems: string[], form: 'kafka' | 'clusters'): ClusterConfig {
  const secret = (key: string, name: string): string => {
    const value = env[name];
    if (!value) problems.push(`${where}.${key}: the environment variable ${name} is not set`);
    return value ?? '';
  };
  let tls: TlsSettings | null = null;
  if (file.ssl === true) tls = {};
  else if (file.ssl !== false) {
    const { passphraseEnv, ...files } = file.ssl;
    tls = { ...files, ...(passphraseEnv ? { passphrase: secret('ssl.passphraseEnv', passphraseEnv) } : {}) };
  }
  let sasl: SaslSettings | null = null;
  const s = file.sasl;
  if (s?.mechanism === 'oauthbearer') {
    sasl = { mechanism: s.mechanism, tokenEndpoint: s.tokenEndpoint, clientId: s.clientId, clientSecret: secret('sasl.clientSecretEnv', s.clientSecretEnv), ...(s.scope ? { scope: s.scope } : {}) };
  } else if (s?.mechanism === 'aws-msk-iam') {
    sasl = { mechanism: s.mechanism, ...(s.region ? { region: s.region } : {}) };
  } else if (s) {
    // One variable for every cluster would send one cluster's password to the others: only
    // the one-cluster form keeps the first version's KAFKA_SASL_PASSWORD.
    const variable = s.passwordEnv ?? (form === 'kafka' ? LEGACY_PASSWORD_ENV : undefined);
    if (variable === undefined) problems.push(`${where}.sasl.passwordEnv: required: the environment variable that holds ${s.username}'s password`);
    sasl = { mechanism: s.mechanism, username: s.username, password: variable === undefined ? '' : secret('sasl.passwordEnv', variable) };
  }
  return {
    name: file.name,
    brokers: file.brokers,
    clientId: file.clientId,
    tls,
    sasl,
    connectionTimeoutMs: file.connectionTimeoutMs,
    requestTimeoutMs: file.requestTimeoutMs,
    readDeadlineMs: file.readDeadlineMs,
    flexibleRequests: file.flexibleRequests,
    watch: file.watch ?? null,
    channel: file.channel ?? null,
    ...('access' in file && file.access ? { access: file.access } : {}),
  };
}
