import { randomBytes } from 'node:crypto';
import type { Clock, SilenceStore } from '../core/ports.js';
import { activeCount, currentSilences, endSilence, planSilence, SILENCE_LIMITS, type Silence, type SilenceEnding, type SilencePlan, type SilenceRequest } from '../core/silence.js';
import type { Logger } from '../log/logger.js';

export interface SilencesDeps {
  store: SilenceStore;
  clock: Clock;
  /** The configured clusters: a silence names one of them or none. */
  clusters: readonly string[];
  logger: Logger;
  newId?: () => string;
  /** Told when a silence was set or ended here (the App Home tab lists them). */
  changed?: () => void;
}

/** What the monitors need from the silences at each check. */
export interface SilencesAtCheck {
  forCheck(now: number): Promise<readonly Silence[]>;
}

/** How long an ended silence is still handed to checks, so an incident it covered can tell who ended it. */
const RECENTLY_OVER_MS = 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;

/** `sil-` and ten base-32 characters: short enough to type after `/lag unsilence`. */
export function newSilenceId(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  return `sil-${[...randomBytes(10)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/**
 * Silences as `/lag` and the checks use them: planned by the core, kept by the store. The
 * latest list read is kept for the metrics gauge, which counts those in force at scrape time.
 */
export class Silences implements SilencesAtCheck {
  private known: readonly Silence[] = [];
  private prunedAt = 0;
  private readonly newId: () => string;

  constructor(private readonly deps: SilencesDeps) {
    this.newId = deps.newId ?? newSilenceId;
  }

  /** Silences in force at this moment, as last read from the store. */
  activeNow(): number {
    return activeCount(this.known, this.deps.clock.now());
  }

  /** Plans a silence for `user` and keeps it; a refused one is not kept and says why. */
  async create(request: SilenceRequest, user: string): Promise<SilencePlan> {
    const now = this.deps.clock.now();
    const plan = planSilence(request, { now, user, id: this.newId(), clusters: this.deps.clusters });
    if (!plan.ok) return plan;
    await this.deps.store.addSilence(plan.silence);
    this.deps.logger.info({ silence: plan.silence.id, by: user, target: plan.silence.target, startsAt: plan.silence.startsAt, endsAt: plan.silence.endsAt }, 'silence created');
    await this.refresh(now);
    this.deps.changed?.();
    return plan;
  }

  /** In force and scheduled, for `/lag silences`. */
  async current(): Promise<Silence[]> {
    const now = this.deps.clock.now();
    return currentSilences(await this.refresh(now), now);
  }

  async end(id: string, user: string): Promise<SilenceEnding> {
    const { store, clock, logger } = this.deps;
    const now = clock.now();
    const ending = endSilence(await store.silence(id), id, user, now);
    if (ending.kind !== 'ended') return ending;
    if (!(await store.endSilenceEarly(id, user, now))) {
      // Someone else ended it in between, or it ran out: say how it is now.
      return endSilence(await store.silence(id), id, user, now);
    }
    logger.info({ silence: id, by: user }, 'silence ended early');
    await this.refresh(now);
    this.deps.changed?.();
    return ending;
  }

  async forCheck(now: number): Promise<readonly Silence[]> {
    return this.refresh(now);
  }

  private async refresh(now: number): Promise<readonly Silence[]> {
    const { store, logger } = this.deps;
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      const pruned = await store.pruneSilences(now - SILENCE_LIMITS.keepEndedMs);
      if (pruned > 0) logger.info({ pruned }, 'silences over for a week forgotten');
    }
    this.known = await store.silencesSince(now - RECENTLY_OVER_MS);
    return this.known;
  }
}
