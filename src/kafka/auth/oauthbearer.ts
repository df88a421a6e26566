import type { Mechanism, SaslAuthenticationRequest } from 'kafkajs';

/** The broker refused the bearer token; `status` is its RFC 7628 error status, e.g. invalid_token. */
export class BearerTokenRefusedError extends Error {
  // Not retried by kafkajs: the same token would be refused again.
  readonly retriable = false;
  constructor(readonly status: string) {
    super(`the broker refused the token (${status})`);
    this.name = 'BearerTokenRefusedError';
  }
}

const SOH = '\u0001';

/** kafkajs hands SaslAuthenticate its auth bytes with their int32 length in front. */
function sized(message: string): SaslAuthenticationRequest {
  return {
    encode: () => {
      const body = Buffer.from(message, 'utf8');
      const framed = Buffer.alloc(4 + body.length);
      framed.writeInt32BE(body.length, 0);
      body.copy(framed, 4);
      return framed;
    },
  };
}

const serverMessage = {
  // The response's auth bytes arrive framed the same way.
  decode: (raw: Buffer) => (raw.length >= 4 ? raw.subarray(4, 4 + raw.readInt32BE(0)) : Buffer.alloc(0)),
  parse: (data: Buffer) => data,
};

function statusOf(challenge: Buffer): string {
  try {
    const parsed = JSON.parse(challenge.toString('utf8')) as { status?: unknown };
    return typeof parsed.status === 'string' ? parsed.status : challenge.toString('utf8');
  } catch {
    return challenge.toString('utf8');
  }
}

/**
 * SASL/OAUTHBEARER (RFC 7628) with the token from `token`. kafkajs' own mechanism reads the
 * broker's first answer as success even when it is the error challenge, so a refused token
 * only shows later as a closed connection; this one answers the challenge as the RFC says
 * (a lone ^A, after which the broker fails the exchange) and throws with the broker's status.
 */
export function oauthBearerMechanism(token: () => Promise<string>): Mechanism {
  return {
    mechanism: 'oauthbearer',
    authenticationProvider: ({ saslAuthenticate }) => ({
      authenticate: async () => {
        const value = await token();
        const challenge = await saslAuthenticate<Buffer>({ request: sized(`n,,${SOH}auth=Bearer ${value}${SOH}${SOH}`), response: serverMessage });
        if (challenge && challenge.length > 0) {
          await saslAuthenticate({ request: sized(SOH) }).catch(() => undefined);
          throw new BearerTokenRefusedError(statusOf(challenge));
        }
      },
    }),
  };
}
