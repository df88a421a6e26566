import type { IssuedToken } from './cached-token.js';

/** The signer could not make a token: no credentials in the chain, or STS refused. */
export class MskIamSignerError extends Error {
  // Not retried by kafkajs: credentials that are not there now will not be in 200 ms.
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'MskIamSignerError';
  }
}

export type MskSigner = (region: string) => Promise<{ token: string; expiryTime: number }>;

/**
 * AWS's own signer, with the default credential chain (environment, profile, SSO, web
 * identity, container and instance roles). Loaded on first use: the AWS SDK it brings adds
 * about 0.1 s to every start, which only MSK IAM clusters should pay.
 */
export const awsSigner: MskSigner = async (region) => (await import('aws-msk-iam-sasl-signer-js')).generateAuthToken({ region });

/**
 * What the token says: MSK IAM's token is a SigV4-presigned `kafka-cluster:Connect` URL,
 * base64url-encoded. Read back for error messages (which access key the broker refused)
 * and by the tests (that the broker received exactly this).
 */
export function decodeMskToken(token: string): { url: URL; accessKeyId: string | null; action: string | null } | null {
  try {
    const url = new URL(Buffer.from(token, 'base64url').toString('utf8'));
    const credential = url.searchParams.get('X-Amz-Credential');
    return { url, accessKeyId: credential ? (credential.split('/')[0] ?? null) : null, action: url.searchParams.get('Action') };
  } catch {
    return null;
  }
}

/** A token from the signer; the signer says when it expires (15 minutes, or sooner with short-lived credentials). */
export function mskIamIssuer(region: string, sign: MskSigner, now: () => number, onToken: (token: string) => void): () => Promise<IssuedToken> {
  return async () => {
    let signed: { token: string; expiryTime: number };
    try {
      signed = await sign(region);
    } catch (error) {
      throw new MskIamSignerError(`cannot sign an AWS MSK IAM token in ${region}: ${error instanceof Error ? error.message : String(error)}`);
    }
    onToken(signed.token);
    return { value: signed.token, lifetimeMs: Math.max(0, signed.expiryTime - now()) };
  };
}
