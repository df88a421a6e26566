import { createRequire } from 'node:module';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { BrokerApis } from '../../src/kafka/flexible/broker-apis.js';
import { API } from '../../src/kafka/flexible/requests.js';
import type { InternalBroker } from '../../src/kafka/kafkajs-internals.js';

/** A logger that keeps its lines, to see what an operator would read. */
function recordingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { logger, lines };
}

/** kafkajs' own Broker class (no connection is opened), with the ApiVersions a broker answered. */
function kafkajsBroker(versions: InternalBroker['versions']): InternalBroker {
  const require = createRequire(import.meta.url);
  const Broker = require('kafkajs/src/broker') as new (options: Record<string, unknown>) => InternalBroker;
  const silent = { namespace: () => silent, info: () => undefined, debug: () => undefined, warn: () => undefined, error: () => undefined };
  return new Broker({ connectionPool: {}, logger: silent, versions });
}

describe('which of lagbot\'s own requests a broker gets', () => {
  it('the version its ApiVersions allows; nothing said', () => {
    const { logger, lines } = recordingLogger();
    const apis = new BrokerApis(true, logger);
    const broker = kafkajsBroker({ [API.OffsetFetch]: { minVersion: 1, maxVersion: 10 }, [API.ConsumerGroupDescribe]: { minVersion: 0, maxVersion: 1 } });
    expect(apis.version(broker, 1, API.OffsetFetch)).toBe(9);
    expect(apis.version(broker, 1, API.ConsumerGroupDescribe)).toBe(0);
    expect(lines).toEqual([]);
  });

  it('a broker that lacks one gets the fallback, said once per broker and request with the Kafka it needs', () => {
    const { logger, lines } = recordingLogger();
    const apis = new BrokerApis(true, logger);
    const old = kafkajsBroker({ [API.OffsetFetch]: { minVersion: 1, maxVersion: 7 } });
    for (let check = 0; check < 3; check += 1) {
      expect(apis.version(old, 2, API.OffsetFetch)).toBeNull();
      expect(apis.version(old, 2, API.ConsumerGroupDescribe)).toBeNull();
    }
    expect(apis.version(kafkajsBroker({}), 3, API.OffsetFetch)).toBeNull();
    expect(lines.map((l) => l.msg)).toEqual([
      'broker 2 does not answer OffsetFetch v8+ (Kafka 3.0 or later): committed offsets are read one group per request',
      'broker 2 does not answer ConsumerGroupDescribe v0+ (Kafka 3.8 or later): members of consumer-protocol (KIP-848) groups are not visible',
      'broker 3 does not answer OffsetFetch v8+ (Kafka 3.0 or later): committed offsets are read one group per request',
    ]);
  });

  it('flexibleRequests: false sends none, and says so once', () => {
    const { logger, lines } = recordingLogger();
    const apis = new BrokerApis(false, logger);
    const broker = kafkajsBroker({ [API.OffsetFetch]: { minVersion: 1, maxVersion: 9 } });
    expect(apis.version(broker, 1, API.OffsetFetch)).toBeNull();
    expect(apis.version(broker, 1, API.ListGroups)).toBeNull();
    expect(lines).toHaveLength(1);
    expect(lines[0]?.msg).toMatch(/^flexibleRequests is false for this cluster/);
  });

  it('ListOffsets without v7 (a broker before Kafka 3.0): none, and the log says the newest record\'s time is not known', () => {
    const { logger, lines } = recordingLogger();
    const apis = new BrokerApis(true, logger);
    const old = kafkajsBroker({ [API.ListOffsets]: { minVersion: 0, maxVersion: 6 } });
    expect(apis.version(old, 4, API.ListOffsets)).toBeNull();
    expect(apis.version(old, 4, API.ListOffsets)).toBeNull();
    expect(apis.version(kafkajsBroker({ [API.ListOffsets]: { minVersion: 1, maxVersion: 9 } }), 5, API.ListOffsets)).toBe(9);
    expect(lines.map((l) => l.msg)).toEqual([
      'broker 4 does not answer ListOffsets v7+ (Kafka 3.0 or later): the newest record\'s timestamp (MAX_TIMESTAMP) is not known, and lag in seconds is estimated without it',
    ]);
  });
});
