/**
 * A cluster's connection settings cannot be used as they stand: a certificate file that
 * cannot be read, a key that does not decrypt, a region that is not known. Nothing a retry
 * fixes, so lagbot refuses to start with it (exit 2, like a configuration error) and says
 * which cluster and which key.
 */
export class KafkaSetupError extends Error {
  constructor(
    readonly cluster: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`cluster ${cluster}: ${message}`, options);
    this.name = 'KafkaSetupError';
  }
}
