import { formatCount } from '../../src/views/format.js';
import { DEMO_THRESHOLDS } from './demo-config.js';
import type { DemoWorld } from './world.js';

export interface ScenarioStep {
  /** Seconds after the scenario starts (before the speed factor). */
  at: number;
  note: string;
  act?: (world: DemoWorld) => Promise<void> | void;
}

const t = DEMO_THRESHOLDS;

/**
 * The case study in about three minutes: partition 1's consumer slows down, lag builds
 * on that partition, lagbot warns, escalates to critical and to a page; the slow member
 * keeps being kicked out (a rebalance storm); the fix goes out and the group drains.
 */
export const CASE_STUDY: ScenarioStep[] = [
  { at: 0, note: 'Steady state: 3 members, one partition each, lag near zero. Try /lag user-events-consumer.' },
  {
    at: 20,
    note: "03:14 in the case study: processing of partition 1 slows down (a schema lookup on every message). Lag builds on that partition.",
    act: (w) => w.setSlow({ partition: 1, delayMs: 50 }),
  },
  { at: 45, note: `lagbot should have opened a warning (lag > ${formatCount(t.warning)} and growing) and escalate as lag passes ${formatCount(t.critical)} and ${formatCount(t.page)}. Acknowledge it.` },
  {
    at: 95,
    note: 'The member processing partition 1 keeps missing max.poll.interval.ms and is kicked out: a rebalance storm.',
    act: async (w) => void (await w.kickSlowOwner()),
  },
  { at: 103, note: 'It rejoins.', act: (w) => w.rejoinKicked() },
  { at: 111, note: 'Whoever holds partition 1 now is kicked out again.', act: async (w) => void (await w.kickSlowOwner()) },
  { at: 119, note: 'It rejoins again.', act: (w) => w.rejoinKicked() },
  { at: 127, note: 'And once more.', act: async (w) => void (await w.kickSlowOwner()) },
  {
    at: 135,
    note: '03:52: the schema cache fix is deployed and the group scaled back to 3 members. Partition 1 drains.',
    act: async (w) => {
      w.setSlow(null);
      await w.rejoinKicked();
    },
  },
  { at: 175, note: 'The incident should now be resolved with its impact summary in the thread. Keep playing: /lag, /lag list, /lag user-events-consumer members.' },
];

export interface ScenarioRun {
  done: Promise<void>;
  cancel(): void;
}

/** Play the steps in time; `speed` 2 plays twice as fast. */
export function playScenario(world: DemoWorld, steps: ScenarioStep[], speed: number, announce: (note: string) => void): ScenarioRun {
  let cancelled = false;
  let wake: (() => void) | null = null;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const done = (async () => {
    const start = Date.now();
    for (const step of steps) {
      const due = start + (step.at * 1000) / speed;
      if (due > Date.now()) await sleep(due - Date.now());
      if (cancelled) return;
      announce(step.note);
      await step.act?.(world);
    }
  })();
  return {
    done,
    cancel: () => {
      cancelled = true;
      wake?.();
    },
  };
}
