import type { Logger } from '../../log/logger.js';
import { canSendFlexible, type InternalBroker } from '../kafkajs-internals.js';
import { API, FIRST_KAFKA, SPOKEN, pickVersion, type ApiKey } from './requests.js';

/** What lagbot does instead when a broker lacks a request, for the one log line that says so. */
const INSTEAD: Readonly<Record<ApiKey, string>> = {
  [API.ListOffsets]: 'the newest record\'s timestamp (MAX_TIMESTAMP) is not known, and lag in seconds is estimated without it',
  [API.OffsetFetch]: 'committed offsets are read one group per request',
  [API.FindCoordinator]: 'coordinators are looked up one group per request',
  [API.ListGroups]: 'group types come from the protocol type alone (a consumer group of either protocol is told apart by describing it)',
  [API.ConsumerGroupDescribe]: 'members of consumer-protocol (KIP-848) groups are not visible',
  [API.ShareGroupDescribe]: 'members of share groups (KIP-932) are not visible',
  [API.DescribeShareGroupOffsets]: 'share groups are listed without their start offsets and lag',
};

const NAMES: Readonly<Record<ApiKey, string>> = {
  [API.ListOffsets]: 'ListOffsets',
  [API.OffsetFetch]: 'OffsetFetch',
  [API.FindCoordinator]: 'FindCoordinator',
  [API.ListGroups]: 'ListGroups',
  [API.ConsumerGroupDescribe]: 'ConsumerGroupDescribe',
  [API.ShareGroupDescribe]: 'ShareGroupDescribe',
  [API.DescribeShareGroupOffsets]: 'DescribeShareGroupOffsets',
};

/**
 * Which of lagbot's own requests each broker answers, from the ApiVersions kafkajs asked for
 * when it connected. A broker that lacks one gets today's kafkajs request instead, and the
 * log says so once per broker and request, not on every check.
 */
export class BrokerApis {
  private readonly said = new Set<string>();
  private saidOff = false;

  constructor(
    private readonly enabled: boolean,
    private readonly logger: Logger,
  ) {}

  /** The version of `api` to send to broker `nodeId`, or null for the fallback. */
  version(broker: InternalBroker, nodeId: number, api: ApiKey): number | null {
    if (!this.enabled) {
      if (!this.saidOff) {
        this.saidOff = true;
        this.logger.info('flexibleRequests is false for this cluster: reading with kafkajs requests only (more requests, the same numbers, no KIP-848 members)');
      }
      return null;
    }
    const version = broker.versions && canSendFlexible(broker) ? pickVersion(broker.versions, api) : null;
    if (version === null) this.sayOnce(broker, nodeId, api);
    return version;
  }

  private sayOnce(broker: InternalBroker, nodeId: number, api: ApiKey): void {
    const key = `${nodeId}:${api}`;
    if (this.said.has(key)) return;
    this.said.add(key);
    const theirs = broker.versions?.[api];
    const spoken = theirs ? `v${theirs.minVersion}-${theirs.maxVersion}` : 'none';
    this.logger.warn(
      { broker: nodeId, api: NAMES[api], brokerVersions: spoken, needs: `v${SPOKEN[api].min}+` },
      `broker ${nodeId} does not answer ${NAMES[api]} v${SPOKEN[api].min}+ (Kafka ${FIRST_KAFKA[api]} or later): ${INSTEAD[api]}`,
    );
  }
}
