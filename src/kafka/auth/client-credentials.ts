import type { IssuedToken } from './cached-token.js';

export interface ClientCredentials {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
}

/** The token endpoint did not give a token; the message says what it answered. */
export class TokenEndpointError extends Error {
  // Not retried by kafkajs: the endpoint's answer is the message, and retrying within the
  // read deadline only hides it behind a timeout.
  readonly retriable = false;
  // No `cause`: kafkajs wraps an error as its cause's child, and this message is the one to keep.
  constructor(message: string) {
    super(message);
    this.name = 'TokenEndpointError';
  }
}

export type Fetch = typeof fetch;

// RFC 6749 2.3.1: the id and secret are form-encoded before they go into the Basic header.
const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');

/**
 * An access token by the OAuth 2 client credentials grant (RFC 6749 4.4). The client
 * authenticates with HTTP Basic (client_secret_basic), which the RFC requires every
 * server to accept and which Kafka's own Java client sends; Keycloak, Okta, Azure AD
 * (Entra ID) and Auth0 all accept it.
 */
export async function requestClientCredentialsToken(credentials: ClientCredentials, timeoutMs: number, fetchImpl: Fetch = fetch): Promise<IssuedToken> {
  const { tokenEndpoint, clientId, clientSecret, scope } = credentials;
  const body = new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
  let response: Response;
  try {
    response = await fetchImpl(tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (error) {
    const name = (error as Error | null)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') throw new TokenEndpointError(`the token endpoint ${tokenEndpoint} did not answer within ${timeoutMs / 1000}s`);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new TokenEndpointError(`the token endpoint ${tokenEndpoint} cannot be reached (${cause?.code ?? cause?.message ?? String(error)})`);
  }
  const text = await response.text().catch(() => '');
  let json: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) json = parsed as Record<string, unknown>;
  } catch {
    json = null;
  }
  if (!response.ok) {
    // RFC 6749 5.2: `error` and `error_description` say why; otherwise show the start of the body.
    const why = typeof json?.['error'] === 'string'
      ? `${json['error']}${typeof json['error_description'] === 'string' ? ` (${json['error_description']})` : ''}`
      : text.trim().slice(0, 200) || response.statusText;
    throw new TokenEndpointError(`the token endpoint ${tokenEndpoint} answered ${response.status}: ${why}`);
  }
  const token = json?.['access_token'];
  if (typeof token !== 'string' || token === '') throw new TokenEndpointError(`the token endpoint ${tokenEndpoint} answered ${response.status} without an access_token`);
  const expiresIn = json?.['expires_in'];
  // Some servers send expires_in as a string.
  const seconds = typeof expiresIn === 'number' ? expiresIn : typeof expiresIn === 'string' ? Number(expiresIn) : NaN;
  return { value: token, lifetimeMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : jwtLifetimeMs(token) };
}

/** When expires_in is missing: the token's own `exp`, if it is a JWT. */
function jwtLifetimeMs(token: string, now = Date.now()): number | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const exp: unknown = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && exp * 1000 > now ? exp * 1000 - now : null;
  } catch {
    return null;
  }
}
