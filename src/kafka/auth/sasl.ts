import type { Mechanism, SASLOptions } from 'kafkajs';
import type { ClusterConfig } from '../../config/clusters.js';
import type { Clock } from '../../core/ports.js';
import { CachedToken } from './cached-token.js';
import { requestClientCredentialsToken, type Fetch } from './client-credentials.js';
import { awsSigner, decodeMskToken, mskIamIssuer, type MskSigner } from './msk-iam.js';
import { oauthBearerMechanism } from './oauthbearer.js';
import { KafkaSetupError } from './setup-error.js';

/** Who lagbot says it is, for messages about a refusal. */
export interface SaslIdentity {
  /** As Kafka names it: PLAIN, SCRAM-SHA-512, OAUTHBEARER, AWS_MSK_IAM. */
  mechanism: string;
  /** The user (PLAIN, SCRAM) or OAuth client id; for MSK IAM the access key of the last token. */
  who(): string | null;
  /** Where the token comes from: the token endpoint, or the AWS region. */
  issuer: string | null;
}

export interface SaslSetup {
  options: SASLOptions | Mechanism;
  identity: SaslIdentity;
}

export interface SaslDeps {
  clock: Clock;
  env: Record<string, string | undefined>;
  fetch?: Fetch;
  sign?: MskSigner;
}

/** kafkajs' SASL options for a cluster, with a cached, refreshed token for OAUTHBEARER and MSK IAM. */
export function saslSetup(config: ClusterConfig, deps: SaslDeps): SaslSetup | null {
  const sasl = config.sasl;
  if (!sasl) return null;
  // A token request must leave room, within the read deadline, for the handshake after it.
  const tokenTimeoutMs = Math.min(config.requestTimeoutMs, Math.max(1_000, config.readDeadlineMs / 2));
  switch (sasl.mechanism) {
    case 'plain':
    case 'scram-sha-256':
    case 'scram-sha-512':
      return {
        options: passwordOptions(sasl.mechanism, sasl.username, sasl.password),
        identity: { mechanism: sasl.mechanism.toUpperCase(), who: () => sasl.username, issuer: null },
      };
    case 'oauthbearer': {
      const token = new CachedToken(() => requestClientCredentialsToken(sasl, tokenTimeoutMs, deps.fetch), deps.clock);
      return {
        options: oauthBearerMechanism(() => token.get()),
        identity: { mechanism: 'OAUTHBEARER', who: () => sasl.clientId, issuer: sasl.tokenEndpoint },
      };
    }
    case 'aws-msk-iam': {
      const region = sasl.region ?? deps.env['AWS_REGION'] ?? deps.env['AWS_DEFAULT_REGION'];
      if (!region) throw new KafkaSetupError(config.name, 'sasl.region is not set, and neither is AWS_REGION: the MSK IAM token is signed for the cluster\'s region');
      let accessKeyId: string | null = null;
      const issuer = mskIamIssuer(region, deps.sign ?? awsSigner, () => deps.clock.now(), (t) => {
        accessKeyId = decodeMskToken(t)?.accessKeyId ?? null;
      });
      const token = new CachedToken(issuer, deps.clock);
      // MSK IAM is SASL/OAUTHBEARER on the wire, the signer's token as the bearer token.
      return {
        options: oauthBearerMechanism(() => token.get()),
        identity: { mechanism: 'AWS_MSK_IAM', who: () => accessKeyId, issuer: region },
      };
    }
  }
}

// One object per mechanism: kafkajs types each mechanism's options apart.
function passwordOptions(mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', username: string, password: string): SASLOptions {
  switch (mechanism) {
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
      return { mechanism, username, password };
    case 'scram-sha-512':
      return { mechanism, username, password };
  }
}
