interface KafkaJsErrorShape {
  name?: string;
  type?: string;
  message?: string;
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
export function isStaleMetadata(error: unknown): boolean {
  const types = [asShape(error).type, asShape(rootCause(error)).type];
  return types.includes('UNKNOWN_TOPIC_OR_PARTITION') || types.includes('LEADER_NOT_AVAILABLE') || types.includes('NOT_LEADER_OR_FOLLOWER');
}

export function isConnectionFailure(error: unknown): boolean {
  const names = [asShape(error).name, asShape(rootCause(error)).name];
  return names.some((n) => n === 'KafkaJSConnectionError' || n === 'KafkaJSRequestTimeoutError' || n === 'KafkaJSBrokerNotFound' || n === 'KafkaJSConnectionClosedError');
}

export function describeError(error: unknown): string {
  const root = asShape(rootCause(error));
  return root.message ?? asShape(error).message ?? String(error);
}
