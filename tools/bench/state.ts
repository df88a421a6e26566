import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import Bottleneck from 'bottleneck';
import { createOffsetCommitter, type OffsetCommitter, type TopicOffsets } from './offset-commit.js';
import type { Scale } from './options.js';

const { Kafka: KafkaClient, logLevel, Partitioners } = kafkajs;

/**
 * The cluster state a benchmark scale runs on. Every group has committed offsets on whole
 * topics and no live members (an idle member per group would add thousands of heartbeats
 * that neither lagbot nor Kafka's tool is measured on). One "wide" group reads enough
 * topics to cover about 1,000 partitions: `/lag` is timed on it.
 */
export interface Layout {
  scale: Scale;
  topics: Array<{ name: string; partitions: number }>;
  /** Topic indexes each group has offsets on; group 0 is the wide group. */
  groups: Array<{ name: string; topics: number[] }>;
  wideGroup: string;
  widePartitions: number;
  /** Sum over groups of the partitions each has offsets on: the rows lagbot keeps history for. */
  groupPartitions: number;
  /**
   * Log end offset of each partition, by topic index, as read back after producing (a
   * producer retry can write a batch twice, so the count sent is not proof of what is there).
   */
  logEnd: number[][];
}

export const WIDE_GROUP = 'bench-wide';

/** Messages in a partition: a few, uneven, so lag differs between partitions. */
export function messagesIn(topic: number, partition: number): number {
  return 1 + ((topic * 7 + partition * 3) % 5);
}

/** A group's committed offset on a partition, from 0 (all behind) to the log end (caught up). */
export function committedOffset(layout: Layout, group: number, topic: number, partition: number): number {
  const end = layout.logEnd[topic]?.[partition] ?? 0;
  return (group + topic + partition) % (end + 1);
}

export function layoutOf(scale: Scale, widePartitions: number): Layout {
  const base = Math.floor(scale.partitions / scale.topics);
  const extra = scale.partitions % scale.topics;
  const topics = Array.from({ length: scale.topics }, (_, t) => ({
    name: `bench-t${String(t).padStart(4, '0')}`,
    partitions: base + (t < extra ? 1 : 0),
  }));
  const wideTopics: number[] = [];
  let wide = 0;
  for (let t = 0; t < topics.length && wide < widePartitions; t += 1) {
    wideTopics.push(t);
    wide += (topics[t] as { partitions: number }).partitions;
  }
  const groups = [{ name: WIDE_GROUP, topics: wideTopics }];
  for (let g = 1; g < scale.groups; g += 1) {
    groups.push({ name: `bench-g${String(g).padStart(5, '0')}`, topics: [(g - 1) % scale.topics] });
  }
  const groupPartitions = groups.reduce((sum, g) => sum + g.topics.reduce((s, t) => s + (topics[t] as { partitions: number }).partitions, 0), 0);
  return { scale, topics, groups, wideGroup: WIDE_GROUP, widePartitions: wide, groupPartitions, logEnd: [] };
}

/** Total lag each group must show, for checking lagbot's and Kafka's tool's answers. */
export function expectedLag(layout: Layout): Map<string, number> {
  const expected = new Map<string, number>();
  layout.groups.forEach((group, g) => {
    let lag = 0;
    for (const t of group.topics) {
      const partitions = (layout.topics[t] as { partitions: number }).partitions;
      for (let p = 0; p < partitions; p += 1) lag += (layout.logEnd[t]?.[p] ?? 0) - committedOffset(layout, g, t, p);
    }
    expected.set(group.name, lag);
  });
  return expected;
}

export interface BuildTimes {
  createTopicsMs: number;
  produceMs: number;
  commitMs: number;
  commitPath: 'offset-commit' | 'set-offsets';
  totalMs: number;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Create the topics, produce into every partition, and commit every group's offsets. */
export async function buildState(brokers: string[], layout: Layout, log: (line: string) => void): Promise<BuildTimes> {
  const kafka = new KafkaClient({ brokers, clientId: 'lagbot-bench-builder', logLevel: logLevel.NOTHING, requestTimeout: 120_000 });
  const started = Date.now();
  const admin = kafka.admin();
  await admin.connect();
  try {
    // CreateTopics batched: one request per 20 topics. The broker creates the partition
    // logs after answering, so leaders are waited for before producing.
    let t0 = Date.now();
    const existing = new Set(await admin.listTopics());
    const missing = layout.topics.filter((t) => !existing.has(t.name));
    for (const batch of chunks(missing, 20)) {
      await admin.createTopics({
        topics: batch.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: 1 })),
        // kafkajs' own wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a broker answers
        // until the new topic reaches its metadata cache: waited for below instead.
        waitForLeaders: false,
        timeout: 120_000,
      });
    }
    await waitForLeaders(admin, layout);
    const createTopicsMs = Date.now() - t0;
    log(`  ${missing.length} topics, ${layout.scale.partitions} partitions created in ${(createTopicsMs / 1000).toFixed(1)} s`);

    t0 = Date.now();
    await produce(kafka, layout);
    layout.logEnd = await logEndOffsets(admin, layout);
    const produceMs = Date.now() - t0;
    log(`  messages produced in ${(produceMs / 1000).toFixed(1)} s`);

    t0 = Date.now();
    const commitPath = await commitAll(brokers, admin, layout);
    const commitMs = Date.now() - t0;
    log(`  offsets of ${layout.groups.length} groups committed in ${(commitMs / 1000).toFixed(1)} s (${commitPath})`);
    return { createTopicsMs, produceMs, commitMs, commitPath, totalMs: Date.now() - started };
  } finally {
    await admin.disconnect();
  }
}

async function waitForLeaders(admin: Admin, layout: Layout): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (const batch of chunks(layout.topics, 50)) {
    for (;;) {
      const ready = await admin
        .fetchTopicMetadata({ topics: batch.map((t) => t.name) })
        .then(({ topics }) => topics.length === batch.length && topics.every((t) => t.partitions.every((p) => p.leader >= 0)))
        .catch(() => false);
      if (ready) break;
      if (Date.now() > deadline) throw new Error('topics created but their partitions have no leader after 5 minutes');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function produce(kafka: Kafka, layout: Layout): Promise<void> {
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 3_000 },
  });
  await producer.connect();
  try {
    // About 3,000 messages a request: one Produce per batch on a single broker.
    const batches = chunks(
      layout.topics.map((topic, t) => ({ topic, t })),
      Math.max(1, Math.floor(1_000 / Math.max(1, layout.topics[0]?.partitions ?? 1))),
    );
    for (const batch of batches) {
      const topicMessages = batch.map(({ topic, t }) => ({
        topic: topic.name,
        messages: Array.from({ length: topic.partitions }, (_, p) =>
          Array.from({ length: messagesIn(t, p) }, (_, i) => ({ partition: p, value: `m-${p}-${i}` })),
        ).flat(),
      }));
      // Metadata names a leader a moment before the broker takes produce requests for a
      // new partition; a retried batch may land twice, which is why log ends are read back.
      for (let attempt = 1; ; attempt += 1) {
        try {
          await producer.sendBatch({ acks: 1, topicMessages });
          break;
        } catch (error) {
          if (attempt >= 10) throw error;
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
    }
  } finally {
    await producer.disconnect();
  }
}

async function logEndOffsets(admin: Admin, layout: Layout): Promise<number[][]> {
  const limiter = new Bottleneck({ maxConcurrent: 8 });
  return Promise.all(
    layout.topics.map((topic) =>
      limiter.schedule(async () => {
        // kafkajs' fetchTopicOffsets, several at once, can find no metadata for its topic
        // (seen on the 3-broker cluster at 600 topics: a TypeError inside kafkajs, or fewer
        // partitions): asked again until every partition is answered.
        for (let attempt = 1; ; attempt += 1) {
          try {
            const offsets = await admin.fetchTopicOffsets(topic.name);
            if (offsets.length !== topic.partitions) throw new Error(`log ends of ${topic.name}: ${offsets.length} of ${topic.partitions} partitions answered`);
            const ends: number[] = new Array<number>(topic.partitions).fill(0);
            for (const p of offsets) ends[p.partition] = Number(p.high);
            return ends;
          } catch (error) {
            if (attempt >= 10) throw error;
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      }),
    ),
  );
}

/**
 * The other offset a group commits while history is filled: one message away from the
 * built one (back when it can, else forward), so lag stays within one of the built state.
 */
export function movedOffset(layout: Layout, group: number, topic: number, partition: number): number {
  const built = committedOffset(layout, group, topic, partition);
  const end = layout.logEnd[topic]?.[partition] ?? 0;
  return built > 0 ? built - 1 : Math.min(end, built + 1);
}

function offsetsOf(layout: Layout, g: number, moved = false): TopicOffsets[] {
  const group = layout.groups[g] as { topics: number[] };
  const offset = moved ? movedOffset : committedOffset;
  return group.topics.map((t) => {
    const topic = layout.topics[t] as { name: string; partitions: number };
    return {
      topic: topic.name,
      partitions: Array.from({ length: topic.partitions }, (_, p) => ({ partition: p, offset: String(offset(layout, g, t, p)) })),
    };
  });
}

/**
 * Each group's offsets in one OffsetCommit, 16 groups at a time, retried while the
 * coordinator settles. (The test bed's broker takes about 10 ms per OffsetCommit however
 * many are in flight: 500 groups take 5 s.)
 */
async function commitGroups(committer: OffsetCommitter, layout: Layout, groups: readonly number[], moved: (g: number) => boolean): Promise<void> {
  const limiter = new Bottleneck({ maxConcurrent: 16 });
  await Promise.all(
    groups.map((g) =>
      limiter.schedule(async () => {
        const name = (layout.groups[g] as { name: string }).name;
        // The first commits create __consumer_offsets: its partitions answer "not the
        // coordinator" / "loading" for a moment, which kafkajs marks retriable.
        for (let attempt = 1; ; attempt += 1) {
          try {
            await committer.commit(name, offsetsOf(layout, g, moved(g)));
            return;
          } catch (error) {
            if (attempt >= 20 || (error as { retriable?: boolean }).retriable !== true) throw error;
            await new Promise((r) => setTimeout(r, 250));
          }
        }
      }),
    ),
  );
}

const COMMITTER_OPTIONS = { clientId: 'lagbot-bench-builder', requestTimeoutMs: 120_000, retry: { retries: 5 } };

/**
 * One OffsetCommit per group, as Kafka's AdminClient.alterConsumerGroupOffsets sends it
 * (generation -1, no member id), through the benchmark's own client (offset-commit.ts).
 * kafkajs' admin.setOffsets instead joins the group as a consumer and fetches before
 * committing, one topic at a time: a fallback only.
 */
async function commitAll(brokers: string[], admin: Admin, layout: Layout): Promise<BuildTimes['commitPath']> {
  const committer = createOffsetCommitter(brokers, COMMITTER_OPTIONS);
  if (!committer) {
    const limiter = new Bottleneck({ maxConcurrent: 16 });
    await Promise.all(
      layout.groups.map((_, g) =>
        limiter.schedule(async () => {
          for (const { topic, partitions } of offsetsOf(layout, g)) {
            await admin.setOffsets({ groupId: (layout.groups[g] as { name: string }).name, topic, partitions });
          }
        }),
      ),
    );
    return 'set-offsets';
  }
  try {
    await commitGroups(committer, layout, layout.groups.map((_, g) => g), () => false);
  } finally {
    await committer.disconnect();
  }
  return 'offset-commit';
}

/**
 * Moves committed offsets while lagbot's history is filled, so history is not made of one
 * state repeated (in which every lagging partition looks stalled for the whole hour, the
 * most expensive case for lagbot's stall finding). Before each check, every `every`-th
 * group commits other offsets than it last did: its built offsets or one message away, in
 * turn. So each group's committed offsets change every `every` checks, as consumers that
 * commit every few minutes do, and its lag stays within one message of the built state.
 * The OffsetCommits are spread over the checks because the broker takes about 10 ms for
 * each. null when the benchmark's OffsetCommit is not available (another kafkajs).
 */
export class OffsetMover {
  private readonly moved = new Set<number>();

  private constructor(
    private readonly committer: OffsetCommitter,
    private readonly layout: Layout,
  ) {}

  static open(brokers: string[], layout: Layout): OffsetMover | null {
    const committer = createOffsetCommitter(brokers, COMMITTER_OPTIONS);
    return committer ? new OffsetMover(committer, layout) : null;
  }

  /** Round `round` of a fill over `groups` (indexes into the layout): every `every`-th of them moves. */
  async step(groups: readonly number[], round: number, every: number): Promise<void> {
    const turn = groups.filter((_, i) => i % every === round % every);
    for (const g of turn) {
      if (this.moved.has(g)) this.moved.delete(g);
      else this.moved.add(g);
    }
    await commitGroups(this.committer, this.layout, turn, (g) => this.moved.has(g));
  }

  /** Back to the built offsets, the ones lagbot's and the tool's answers are checked against. */
  async restore(): Promise<void> {
    const back = [...this.moved];
    this.moved.clear();
    await commitGroups(this.committer, this.layout, back, () => false);
  }

  close(): Promise<void> {
    return this.committer.disconnect();
  }
}
