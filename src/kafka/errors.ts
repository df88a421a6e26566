import type { TlsSettings } from '../config/clusters.js';
import type { SaslIdentity } from './auth/sasl.js';

interface KafkaJsErrorShape {
  name?: string;
  type?: string;
  code?: unknown;
  message?: string;
  broker?: string;
  originalError?: unknown;
  cause?: unknown;
}

function asShape(error: unknown): KafkaJsErrorShape {
  return typeof error === 'object' && error !== null ? (error as KafkaJsErrorShape) : {};
}

/** kafkajs wraps the real failure in KafkaJSNumberOfRetriesExceeded; find the innermost. */
export function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5; depth += 1) {
    const next = asShape(current).originalError ?? asShape(current).cause;
    if (next === undefined || next === current) break;
    current = next;
  }
  return current;
}

/** The metadata went stale (kafkajs issue 1622: a deleted topic poisons every refresh). */
// kafkajs 2.2.4 still calls error 6 by its old name, NOT_LEADER_FOR_PARTITION; Kafka's is NOT_LEADER_OR_FOLLOWER.
const STALE_METADATA = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER', 'NOT_LEADER_FOR_PARTITION']);

export function isStaleMetadata(error: unknown): boolean {
  return [asShape(error).type, asShape(rootCause(error)).type].some((type) => type !== undefined && STALE_METADATA.has(type));
}

export function isConnectionFailure(error: unknown): boolean {
  const names = [asShape(error).name, asShape(rootCause(error)).name];
  return names.some((n) => n === 'KafkaJSConnectionError' || n === 'KafkaJSRequestTimeoutError' || n === 'KafkaJSBrokerNotFound' || n === 'KafkaJSConnectionClosedError');
}

export function describeError(error: unknown): string {
  const root = asShape(rootCause(error));
  return root.message ?? asShape(error).message ?? String(error);
}

/** Every error of the chain kafkajs wrapped, outermost first. */
function chainOf(error: unknown): KafkaJsErrorShape[] {
  const chain: KafkaJsErrorShape[] = [];
  let current = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth += 1) {
    const shape = current as KafkaJsErrorShape;
    chain.push(shape);
    const next = shape.originalError ?? shape.cause;
    if (next === current) break;
    current = next;
  }
  return chain;
}

export interface SecurityContext {
  cluster: string;
  tls: TlsSettings | null;
  sasl: SaslIdentity | null;
}

/**
 * A failure explained in the cluster's terms. `certain`: nothing but the settings (or the
 * broker's) can change it, so a retry is pointless, and the message is the whole answer.
 * Otherwise it is a hint added to "Cannot reach Kafka", and only when a fresh connection
 * fails the same way before any read ever worked: a broker restarting also closes connections.
 */
export interface Explanation {
  message: string;
  certain: boolean;
  /** Set when a plaintext connection to this broker was closed unanswered: worth asking whether it speaks TLS. */
  closedInPlaintext?: string;
}

/** The answer once a TLS probe found that the broker does speak TLS. */
export function speaksTlsMessage(cluster: string, broker: string): string {
  return `${broker} of ${cluster} speaks TLS, and lagbot spoke plaintext to it: set ssl for ${cluster} (ssl: true, or ssl.ca with the cluster's CA)`;
}

// node's codes for a chain lagbot cannot verify (OpenSSL's X509_V_ERR_* names).
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
]);
// TLS alerts from a broker that refused lagbot's client certificate, or its absence.
const CLIENT_CERT_REFUSED = /ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|CERTIFICATE_UNKNOWN|UNKNOWN_CA|UNSUPPORTED_CERTIFICATE|CERTIFICATE_EXPIRED|ACCESS_DENIED|HANDSHAKE_FAILURE)$/;
const AUTHORIZATION = new Set(['GROUP_AUTHORIZATION_FAILED', 'TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED']);

/** kafkajs puts its own words before the broker's: "SASL SCRAM SHA512 authentication failed: ...". */
function brokersWords(message: string): string {
  return message.replace(/^SASL [A-Z0-9 -]+ authentication failed: /, '').trim();
}

/** node's message without OpenSSL's source location ("...:../deps/openssl/...:1601:SSL alert number 42"). */
function opensslWords(message: string): string {
  const m = /:SSL routines:[^:]*:([^:]+)/.exec(message);
  return (m?.[1] ?? message.replace(/^Connection error: /, '')).trim();
}

/**
 * A refused TLS handshake, SASL login or authorization, told in the cluster's settings: which
 * broker, which file or user, and what to change. null when the failure is none of these.
 */
export function explainSecurityFailure(error: unknown, ctx: SecurityContext): Explanation | null {
  const chain = chainOf(error);
  const codes = chain.map((e) => (typeof e.code === 'string' ? e.code : ''));
  const names = chain.map((e) => e.name ?? '');
  const types = chain.map((e) => e.type ?? '');
  const innermost = chain[chain.length - 1] ?? {};
  const broker = chain.find((e) => typeof e.broker === 'string')?.broker ?? 'the broker';
  const on = `${broker} of ${ctx.cluster}`;
  const nodeWords = opensslWords(innermost.message ?? '');
  const tls = ctx.tls;

  if (names.includes('TokenEndpointError')) return { certain: true, message: `cannot get an OAuth token for ${ctx.cluster}: ${innermost.message ?? ''}` };
  if (names.includes('MskIamSignerError')) return { certain: true, message: `cannot authenticate to ${ctx.cluster} with AWS MSK IAM: ${innermost.message ?? ''}` };

  const code = codes.find((c) => c !== '') ?? '';
  if (UNTRUSTED.has(code)) {
    const signer = tls?.ca ? `the CA in ssl.ca (${tls.ca})` : 'any system CA; set ssl.ca to the PEM file of the cluster\'s CA';
    return { certain: true, message: `certificate not trusted: ${on} presents a certificate not signed by ${signer} (${nodeWords})` };
  }
  if (code === 'CERT_HAS_EXPIRED') return { certain: true, message: `certificate expired: ${on} presents a certificate past its expiry date, which its operators must renew (${nodeWords})` };
  if (code === 'CERT_NOT_YET_VALID') return { certain: true, message: `certificate not yet valid: ${on} presents a certificate whose validity starts in the future; check this machine's clock (${nodeWords})` };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const checked = tls?.servername ? `ssl.servername ${tls.servername}` : `the host ${broker.replace(/:\d+$/, '')}`;
    return {
      certain: true,
      message: `certificate is for another host: ${on} presents a certificate that does not name ${checked}; connect by a name the certificate holds, or set ssl.servername to it (${nodeWords})`,
    };
  }
  if (CLIENT_CERT_REFUSED.test(code)) {
    const what = tls?.cert
      ? `lagbot's client certificate ssl.cert (${tls.cert}): the broker does not trust the CA that signed it, or it has expired`
      : 'the connection: the listener requires a client certificate (mutual TLS); set ssl.cert and ssl.key';
    return { certain: true, message: `client certificate refused: ${on} refused ${what} (${nodeWords})` };
  }
  if (tls && code === 'ECONNRESET' && /before secure TLS connection/.test(innermost.message ?? '')) {
    return { certain: false, message: `${broker} closed the connection during the TLS handshake: it may be a plaintext listener (ssl is set for ${ctx.cluster})` };
  }

  const sasl = ctx.sasl;
  const refusedToken = chain.find((e) => e.name === 'BearerTokenRefusedError');
  if (refusedToken) return { certain: true, message: `${loginRefused(ctx)}: ${refusedToken.message ?? ''}` };
  if (names.includes('KafkaJSSASLAuthenticationError')) {
    const words = brokersWords(innermost.message ?? '');
    if (/mechanism is not supported by the server/.test(words)) {
      return { certain: true, message: `SASL ${sasl?.mechanism ?? ''} is not offered by ${on}: the listener takes another mechanism, or none` };
    }
    return { certain: true, message: `${loginRefused(ctx)}: ${words}` };
  }
  if (types.includes('ILLEGAL_SASL_STATE') || types.includes('UNSUPPORTED_SASL_MECHANISM')) {
    return { certain: true, message: `SASL is set for ${ctx.cluster}, but its listener takes no SASL (${innermost.message ?? ''}): is it the plaintext or TLS-only port?` };
  }
  const denied = types.find((t) => AUTHORIZATION.has(t));
  if (denied) {
    const who = sasl?.who() ? `${sasl.mechanism === 'AWS_MSK_IAM' ? 'AWS access key' : 'user'} ${sasl.who()}` : 'lagbot';
    return { certain: true, message: `not authorized on ${ctx.cluster}: ${who} was refused (${denied}); lagbot needs Describe on the groups it reads and on their topics` };
  }
  // kafkajs asks every broker and, when none names a coordinator, drops their answers: with
  // authorization on, a group lagbot may not Describe looks exactly like this.
  if (names.includes('KafkaJSGroupCoordinatorNotFound') && sasl) {
    return { certain: true, message: `no broker of ${ctx.cluster} named the group's coordinator for ${sasl.who() ? `user ${sasl.who()}` : 'lagbot'}: lagbot may lack Describe on the group, or its coordinator is unavailable` };
  }
  if (names.includes('KafkaJSConnectionClosedError') && !tls) {
    return {
      certain: false,
      message: `${broker} closed the connection at lagbot's first request: the listener may need TLS (ssl is not set for ${ctx.cluster})${sasl ? '' : ` or SASL (sasl is not set for ${ctx.cluster})`}`,
      closedInPlaintext: broker,
    };
  }
  return null;
}

function loginRefused(ctx: SecurityContext): string {
  const sasl = ctx.sasl;
  const who = sasl?.who();
  switch (sasl?.mechanism) {
    case 'OAUTHBEARER':
      return `authentication failed for OAuth client ${who} on ${ctx.cluster} (SASL OAUTHBEARER, token from ${sasl.issuer})`;
    case 'AWS_MSK_IAM':
      return `authentication failed for AWS access key ${who ?? '(unknown)'} on ${ctx.cluster} (AWS MSK IAM, ${sasl.issuer}; the key's IAM policy must allow kafka-cluster:Connect on this cluster)`;
    default:
      return `authentication failed for user ${who ?? '(unknown)'} on ${ctx.cluster} (SASL ${sasl?.mechanism ?? ''})`;
  }
}
