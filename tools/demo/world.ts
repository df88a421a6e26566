import kafkajs, { type Admin, type Consumer, type Kafka, type Producer } from 'kafkajs';

const { Kafka: KafkaClient, logLevel } = kafkajs;

export const DEMO_TOPIC = 'user-events';
export const DEMO_GROUP = 'user-events-consumer';
const MEMBERS = 3;
/** Messages per second produced to each partition: partition 1 carries the heavy users. */
const PRODUCE_PER_SEC = [100, 400, 50];
const TICK_MS = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The case study's world on a local broker: topic `user-events` with 3 partitions, a
 * steady producer, and the consumer group `user-events-consumer` with 3 members whose
 * processing of one partition can be slowed down (the per-message schema lookup).
 */
export class DemoWorld {
  private readonly kafka: Kafka;
  private readonly brokers: string[];
  private admin: Admin | null = null;
  private producer: Producer | null = null;
  private readonly consumers = new Map<number, Consumer>();
  private producing = false;
  private producerLoop: Promise<void> | null = null;
  private slow: { partition: number; delayMs: number } | null = null;
  /** Partitions of the demo topic each member holds, from its last group join. */
  private readonly assigned = new Map<number, number[]>();
  /** The member the last kick removed, to rejoin it. */
  private kicked: number | null = null;

  constructor(brokers: string[]) {
    this.brokers = brokers;
    this.kafka = new KafkaClient({ brokers, clientId: 'lagbot-demo', logLevel: logLevel.NOTHING });
  }

  async start(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    const topics = await this.admin.listTopics();
    if (!topics.includes(DEMO_TOPIC)) {
      await this.admin.createTopics({ topics: [{ topic: DEMO_TOPIC, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
    }
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
    await this.producer.connect();
    for (let i = 1; i <= MEMBERS; i += 1) await this.join(i);
    this.producing = true;
    this.producerLoop = this.produce();
  }

  private async produce(): Promise<void> {
    let n = 0;
    while (this.producing) {
      const started = Date.now();
      const messages = PRODUCE_PER_SEC.flatMap((perSec, partition) =>
        Array.from({ length: Math.round((perSec * TICK_MS) / 1000) }, () => ({ partition, key: `user-${partition}-${n}`, value: JSON.stringify({ n: n++, event: 'click' }) })),
      );
      await this.producer?.send({ topic: DEMO_TOPIC, messages }).catch(() => undefined);
      await sleep(Math.max(0, TICK_MS - (Date.now() - started)));
    }
  }

  /** Member `i` (re)joins the group. */
  async join(i: number): Promise<void> {
    // One client per member, so each has its own client id, as separate processes would.
    const client = new KafkaClient({ brokers: this.brokers, clientId: `user-events-worker-${i}`, logLevel: logLevel.NOTHING });
    const consumer = client.consumer({
      groupId: DEMO_GROUP,
      sessionTimeout: 30_000,
      heartbeatInterval: 1_000,
      // Small fetches keep a slow member's batches short enough to heartbeat between them.
      maxBytesPerPartition: 16_384,
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned.set(i, [...(payload.memberAssignment[DEMO_TOPIC] ?? [])]);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [DEMO_TOPIC], fromBeginning: false });
    await consumer.run({
      autoCommitInterval: 1_000,
      eachMessage: async ({ partition, heartbeat }) => {
        const slow = this.slow;
        if (slow && slow.partition === partition) {
          await sleep(slow.delayMs);
          await heartbeat();
        }
      },
    });
    this.consumers.set(i, consumer);
  }

  /** Member `i` leaves the group (a crash or a kill by the coordinator). */
  async leave(i: number): Promise<void> {
    const consumer = this.consumers.get(i);
    this.consumers.delete(i);
    this.assigned.delete(i);
    await consumer?.disconnect();
  }

  /** The member holding `partition` now, if any. */
  ownerOf(partition: number): number | null {
    for (const [i, partitions] of this.assigned) if (this.consumers.has(i) && partitions.includes(partition)) return i;
    return null;
  }

  /**
   * The coordinator drops the member that misses max.poll.interval.ms: the one processing
   * the slow partition, whichever member that is after the last rebalance. Returns it.
   */
  async kickSlowOwner(): Promise<number | null> {
    const partition = this.slow?.partition ?? null;
    const owner = partition === null ? null : this.ownerOf(partition);
    if (owner === null) return null;
    this.kicked = owner;
    await this.leave(owner);
    return owner;
  }

  /** The kicked member comes back (its process restarts and joins again). */
  async rejoinKicked(): Promise<void> {
    if (this.kicked === null || this.consumers.has(this.kicked)) return;
    await this.join(this.kicked);
  }

  /** Processing of `partition` takes `delayMs` per message, whoever owns it; null: fast again. */
  setSlow(slow: { partition: number; delayMs: number } | null): void {
    this.slow = slow;
  }

  async stop(): Promise<void> {
    this.producing = false;
    await this.producerLoop;
    await Promise.all([...this.consumers.keys()].map((i) => this.leave(i)));
    await this.producer?.disconnect();
    await this.admin?.disconnect();
  }
}
