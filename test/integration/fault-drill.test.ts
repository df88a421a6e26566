import Database from 'better-sqlite3';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTBOX_EVENT_TYPE } from '../../src/slack/delivery-lookup.js';
import { startSlackStandin, type SlackStandin } from '../../tools/slack-standin/standin.js';
import type { ChaosAction, StoredMessage } from '../../tools/slack-standin/types.js';
import kafkajs from 'kafkajs';
import { startKafka, type KafkaTestbed } from '../../tools/kafka-testbed/broker.js';
import { createTopic, produce, uniqueName } from '../support/kafka.js';
import { ALERTS, SECRET, fastIncidentYaml, spawnLagbot, tempStorePath, type LagbotProcess } from '../support/lagbot.js';

/**
 * A seeded, replayable fault drill of the incident timeline. One incident plays on a real
 * broker (warning, critical, page, drain, resolve) while the real lagbot process is killed
 * with SIGKILL several times, the broker itself is killed and restarted once or twice, and
 * Slack answers 429, 500 before or after taking effect, holds its answers, takes effect
 * late, or drops the connection before or after the work; the seed draws every fault, its
 * timing and every kill. Afterwards the channel must hold one root, every reply exactly
 * once, in order, one "degraded" and one "recovered" notice per broker outage, and the
 * incident must have resolved within two checks of its resolve window once lag drained.
 *
 * The drill has a broker of its own, since it kills it.
 *
 * `LAGBOT_DRILL_SEEDS=1-50` (or `7,9,12`) replays other seeds; CI runs a handful.
 */
const SEEDS = parseSeeds(process.env.LAGBOT_DRILL_SEEDS ?? '1-3');
const CHECK_MS = 1_000;
const RESOLVE_AFTER_MS = 6_000;
const CALL_TIMEOUT_MS = 2_500;
const DEGRADED_AFTER = 2;
const MIN_FAULTS = 30;
const FAULTED = new Set(['chat.postMessage', 'chat.update', 'conversations.history', 'conversations.replies']);

function parseSeeds(text: string): number[] {
  return text.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map((n) => Number(n.trim()));
    if (a === undefined || !Number.isInteger(a)) throw new Error(`LAGBOT_DRILL_SEEDS: "${part}" is not a seed or a range`);
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fast incident configuration, with room for a whole incident and the client timeout the drill counts on. */
const yaml = (group: string, store: string): string =>
  fastIncidentYaml(group, store, '', {
    resolveAfterMinutes: RESOLVE_AFTER_MS / 60_000,
    degradedAfterFailures: DEGRADED_AFTER,
    slack: `  requestTimeoutMs: ${CALL_TIMEOUT_MS}`,
  });

interface Drill {
  seed: number;
  kills: number;
  brokerKills: number;
  /** Kills that landed while a post had taken effect, or was about to, without its answer. */
  inCallKills: number;
  faults: Record<string, number>;
}

/** Waits until the lagbot behind `store` has stored a healthy monitoring state again (a good check after an outage). */
async function seenHealthy(store: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const db = new Database(store, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare(`SELECT json FROM monitor_state WHERE key = 'monitoring:default'`).get() as { json: string } | undefined;
      const state = row ? (JSON.parse(row.json) as { degraded: boolean; consecutiveFailures: number }) : null;
      if (state && !state.degraded && state.consecutiveFailures === 0) return;
    } finally {
      db.close();
    }
    if (Date.now() > deadline) throw new Error(`lagbot did not see Kafka again within ${timeoutMs / 1000} s of the broker's restart`);
    await sleep(200);
  }
}

const faultCount = (drill: Drill): number => Object.entries(drill.faults).reduce((n, [kind, count]) => (kind === 'ok' ? n : n + count), 0);

const outboxSeq = (m: StoredMessage): number | null => {
  const meta = m.metadata as { event_type?: string; event_payload?: { seq?: unknown } } | undefined;
  return meta?.event_type === OUTBOX_EVENT_TYPE ? Number(meta.event_payload?.seq) : null;
};

describe('fault drill: the incident timeline is exactly once and in order under kills and Slack faults', () => {
  let broker: KafkaTestbed;
  let kafka: Kafka;
  let admin: Admin;
  let slack: SlackStandin;

  beforeAll(async () => {
    broker = await startKafka();
    kafka = new kafkajs.Kafka({ brokers: broker.brokers, clientId: 'lagbot-drill', logLevel: kafkajs.logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    slack = await startSlackStandin({ signingSecret: SECRET });
  }, 120_000);

  afterAll(async () => {
    await slack?.stop();
    await admin?.disconnect();
    await broker?.stop();
  });

  it.each(SEEDS)('seed %i', async (seed) => {
    const random = prng(seed);
    const drill: Drill = { seed, kills: 0, brokerKills: 0, inCallKills: 0, faults: {} };
    const topic = uniqueName(`drill-${seed}`);
    const group = uniqueName(`drill-${seed}-consumer`);
    const store = await tempStorePath();
    await createTopic(admin, topic, 3);
    await admin.setOffsets({ groupId: group, topic, partitions: [0, 1, 2].map((partition) => ({ partition, offset: '0' })) });
    const channelBefore = new Set(slack.messages(ALERTS).map((m) => m.ts));

    // Kills asked for by the chaos itself, in the window where a call took effect but its answer is not back yet.
    let killSoon: number | null = null;
    // Four calls in five fail while the incident plays; one in two once lag drained, so the
    // backlog can drain in bounded time.
    let faultShare = 0.8;
    slack.setChaos(({ method }) => {
      if (!FAULTED.has(method)) return undefined;
      const roll = (random() * 0.8) / faultShare;
      let action: ChaosAction = { kind: 'ok' };
      if (roll < 0.12) action = { kind: 'rate-limit', retryAfter: 1 };
      else if (roll < 0.25) action = { kind: 'error-before' };
      else if (roll < 0.38) action = { kind: 'error-after' };
      else if (roll < 0.52) action = { kind: 'hold', ms: Math.round(200 + random() * 1_500) };
      // Late enough to land after a killed lagbot has restarted, never after the client's timeout.
      else if (roll < 0.64) action = { kind: 'late', ms: Math.round(600 + random() * 1_700) };
      else if (roll < 0.72) action = { kind: 'reset-before' };
      else if (roll < 0.8) action = { kind: 'reset-after' };
      drill.faults[action.kind] = (drill.faults[action.kind] ?? 0) + 1;
      // A kill inside a held answer or before a late effect: the post is done, or will be, and lagbot never hears.
      const killOdds = action.kind === 'late' ? 0.7 : action.kind === 'hold' ? 0.4 : 0;
      if (method === 'chat.postMessage' && random() < killOdds && (action.kind === 'hold' || action.kind === 'late')) {
        killSoon ??= Date.now() + Math.round(random() * action.ms * 0.4);
      }
      return action;
    });

    const spawn = () => spawnLagbot(yaml(group, store), slack, { brokers: broker.bootstrap, ready: 'listening' });
    let bot: LagbotProcess = await spawn();
    try {
      // The incident, driven by offsets: lag climbs past warning, critical and page, holds, then drains.
      // The climb lasts its drawn time and until the lag is well past page, whatever the outages took from it.
      const climbUntil = Date.now() + 12_000 + random() * 4_000;
      const PAST_PAGE = 5_000;
      let holdUntil = climbUntil + 12_000;
      // A quiet seed holds the incident longer, until Slack has failed at least MIN_FAULTS calls.
      const holding = () => Date.now() < holdUntil || (faultCount(drill) < MIN_FAULTS && Date.now() < holdUntil + 30_000);
      const timedKills = Array.from({ length: 7 + Math.floor(random() * 3) }, () => Date.now() + 1_500 + random() * (holdUntil - Date.now() - 2_000)).sort((a, b) => a - b);
      // The killer watches closely, so a kill asked for inside a held or late call lands inside it.
      // Kills wait while the broker is down: an outage that no lagbot lived through is
      // rightly never told, and every outage here must be told exactly once.
      let brokerDown = false;
      const killer = (async () => {
        while (holding()) {
          const inCall = killSoon !== null && Date.now() >= killSoon;
          if (!brokerDown && (inCall || (timedKills[0] !== undefined && Date.now() >= timedKills[0]))) {
            if (inCall) drill.inCallKills += 1;
            else timedKills.shift();
            await bot.kill9();
            killSoon = null;
            drill.kills += 1;
            bot = await spawn();
          }
          await sleep(25);
        }
      })();
      // The broker dies once or twice, stays down long enough to be noticed, and comes back
      // (log recovery included) well before the drain, which needs it.
      // Down long enough for two failed checks however long a failing check takes, plus the restart.
      const outages = Array.from({ length: 1 + Math.floor(random() * 2) }, () => 4_000 + random() * 3_000);
      const brokerKiller = (async () => {
        let at = Date.now() + 2_000 + random() * 3_000;
        for (const downMs of outages) {
          await sleep(Math.max(0, at - Date.now()));
          brokerDown = true;
          await broker.kill();
          drill.brokerKills += 1;
          await sleep(downMs);
          await broker.restart();
          brokerDown = false;
          // The next outage only once lagbot has seen Kafka again (its stored monitoring state
          // is healthy): two outages with no good check between them are rightly one outage.
          await seenHealthy(store);
          at = Date.now() + 1_000 + random() * 3_000;
        }
      })();
      let produced = 0;
      let outagesOver = false;
      // A failed restart surfaces through Promise.all below; here it only ends the climb.
      const over = () => (outagesOver = true);
      void brokerKiller.then(over, over);
      while (Date.now() < climbUntil || produced < PAST_PAGE || !outagesOver) {
        if (!brokerDown && produced < PAST_PAGE * 1.5) {
          await produce(kafka, topic, [40, 40, 80]).then(
            () => (produced += 160),
            () => undefined,
          );
        }
        await sleep(300);
      }
      holdUntil = Math.max(holdUntil, Date.now() + 12_000);
      await Promise.all([killer, brokerKiller]);
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({ groupId: group, topic, partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })) });
      const drainedAt = Date.now();
      faultShare = 0.5;

      // Everything the drill queued reaches Slack, and the incident resolves; Slack stays faulty meanwhile.
      const db = new Database(store, { readonly: true, fileMustExist: true });
      try {
        // Root edits share a 50-a-minute chat.update budget: the last one may wait out a minute of it.
        const deadline = Date.now() + 150_000;
        for (;;) {
          const open = db.prepare(`SELECT COUNT(*) AS n FROM incidents WHERE status = 'open'`).get() as { n: number };
          const unsent = db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE state IN ('pending', 'sending')`).get() as { n: number };
          const total = db.prepare(`SELECT COUNT(*) AS n FROM incidents`).get() as { n: number };
          if (total.n > 0 && open.n === 0 && unsent.n === 0) break;
          if (Date.now() > deadline) throw new Error(`seed ${seed}: not settled after 150 s (${open.n} open incidents, ${unsent.n} unsent rows)\n${bot.output()}`);
          await sleep(250);
        }
        const incidents = db.prepare(`SELECT json FROM incidents`).all() as Array<{ json: string }>;
        const rows = db.prepare(`SELECT seq, kind, state, incident_id, file FROM outbox ORDER BY seq`).all() as Array<{
          seq: number;
          kind: string;
          state: string;
          incident_id: string | null;
          file: string | null;
        }>;
        slack.setChaos(undefined);

        // One incident, resolved within two checks of its resolve window after the drain.
        expect(incidents, `seed ${seed}: incidents`).toHaveLength(1);
        const incident = JSON.parse(incidents[0]!.json) as { id: string; status: string; resolved: { at: number } | null; peakSeverity: string };
        expect(incident.status).toBe('resolved');
        expect(incident.peakSeverity).toBe('page');
        expect(incident.resolved!.at - drainedAt, `seed ${seed}: resolved ${incident.resolved!.at - drainedAt} ms after the drain`).toBeLessThanOrEqual(RESOLVE_AFTER_MS + 2 * CHECK_MS + CHECK_MS);
        // Nothing Slack refused for good, nothing left behind.
        expect(rows.filter((r) => r.state === 'failed'), `seed ${seed}: failed rows`).toEqual([]);
        // The postmortem draft queued exactly once, on resolve, under kills and faults.
        const drafts = rows.filter((r) => r.kind === 'post-file' && r.file !== null && (JSON.parse(r.file) as { kind: string }).kind === 'markdown');
        expect(drafts.map((r) => r.state), `seed ${seed}: the postmortem draft`).toEqual(['delivered']);

        // One root, and every reply of the thread exactly once, in the order it was queued.
        const kindOf = new Map(rows.map((r) => [r.seq, r.kind]));
        const posted = slack.messages(ALERTS).filter((m) => !channelBefore.has(m.ts) && outboxSeq(m) !== null);
        const roots = posted.filter((m) => kindOf.get(outboxSeq(m)!) === 'post-root');
        expect(roots.map(outboxSeq), `seed ${seed}: roots`).toEqual(rows.filter((r) => r.kind === 'post-root').map((r) => r.seq));
        expect(posted.filter((m) => !kindOf.has(outboxSeq(m)!)), `seed ${seed}: messages of another run`).toEqual([]);

        // Each broker outage said once when noticed and once when over, in that order.
        const notices = posted.filter((m) => kindOf.get(outboxSeq(m)!) === 'post-channel');
        expect(notices.map(outboxSeq), `seed ${seed}: channel notices`).toEqual(rows.filter((r) => r.kind === 'post-channel').map((r) => r.seq));
        const said = notices.map((m) => (/Monitoring degraded/.test(m.text) ? 'degraded' : /Monitoring recovered/.test(m.text) ? 'recovered' : m.text));
        expect(said, `seed ${seed}: notices for ${drill.brokerKills} broker outages`).toEqual(Array.from({ length: drill.brokerKills }, () => ['degraded', 'recovered']).flat());
        // Files (the charts, the postmortem draft) are shared into the thread as messages of their own.
        const threadMessages = slack.thread(ALERTS, roots[0]!.ts).slice(1);
        const replies = threadMessages.filter((m) => !m.files?.length).map(outboxSeq);
        const shared = threadMessages.flatMap((m) => m.files ?? []);
        expect(shared.length, `seed ${seed}: every file shared once`).toBe(rows.filter((r) => r.kind === 'post-file').length);
        expect(new Set(shared.map((f) => f.id)).size, `seed ${seed}: no file shared twice`).toBe(shared.length);
        const queued = rows.filter((r) => r.kind === 'post-thread').map((r) => r.seq);
        expect(replies, `seed ${seed}: thread replies (by outbox seq, in thread order)`).toEqual(queued);
        expect(queued.length, `seed ${seed}: a whole incident's timeline`).toBeGreaterThanOrEqual(5);
      } finally {
        db.close();
      }
      const faulted = faultCount(drill);
      console.log(`fault drill seed ${seed}: clean, ${drill.kills} lagbot kills (${drill.inCallKills} inside a call), ${drill.brokerKills} broker kills, ${faulted} Slack faults ${JSON.stringify(drill.faults)}`);
    } catch (error) {
      // Said at once, not only in the summary at the end of a long run.
      // The first line says what failed; lagbot's last words (warnings, without kafkajs' reconnect noise) say why.
      const lines = error instanceof Error ? error.message.split('\n') : [String(error)];
      const what = [lines[0], ...lines.slice(1).filter((l) => !l.includes('"logger":"kafkajs"')).slice(-40)].join('\n');
      console.log(`fault drill seed ${seed}: FAILED after ${drill.kills} lagbot kills, ${drill.brokerKills} broker kills, ${faultCount(drill)} Slack faults: ${what}`);
      throw error;
    } finally {
      slack.setChaos(undefined);
      await bot.stop();
    }
  }, 300_000);
});
