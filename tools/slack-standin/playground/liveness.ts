/** How long after lagbot last did something the page still calls it "answering". */
export const RECENT_MS = 2 * 60 * 1000;

export interface LagbotStatus {
  /** When lagbot last answered a request or called Slack (stand-in clock, ms); null if never. */
  answeredAt: number | null;
  /** When a delivery to lagbot last failed outright (refused, reset, timed out); null if never. */
  failedAt: number | null;
  /** Heard from within RECENT_MS, and not failed since. */
  recent: boolean;
}

/** Whether lagbot has been heard from lately, so the page can tell a silent bot from a dead one. */
export class Liveness {
  private last: number | null = null;
  private failedAt: number | null = null;

  constructor(private readonly clock: () => number) {}

  heard(): void {
    this.last = this.clock();
  }

  /** A failed delivery outweighs anything heard before it. */
  unreachable(): void {
    this.failedAt = this.clock();
  }

  status(): LagbotStatus {
    const now = this.clock();
    const recent = this.last !== null && now - this.last <= RECENT_MS && (this.failedAt === null || this.failedAt < this.last);
    return { answeredAt: this.last, failedAt: this.failedAt, recent };
  }
}
