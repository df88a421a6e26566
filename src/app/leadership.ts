/**
 * Which replica runs the checks and delivers the outbox. Every replica answers /lag and
 * records clicks; only the leader's checks and Slack calls count.
 */
export interface Leadership {
  isLeader(): boolean;
  /**
   * Told each time this replica becomes leader (true) or stops being it (false). A listener's
   * promise is the work the change starts: a replica leads again only once that is done.
   */
  onChange(listener: (leader: boolean) => void | Promise<void>): void;
  start(): void;
  stop(): Promise<void>;
}

/** One process on its own store (SQLite): always the leader. */
export function soleLeader(): Leadership {
  const listeners: ((leader: boolean) => void | Promise<void>)[] = [];
  let started = false;
  return {
    isLeader: () => true,
    onChange: (listener) => void listeners.push(listener),
    start: () => {
      if (started) return;
      started = true;
      for (const listener of listeners) void listener(true);
    },
    stop: async () => undefined,
  };
}

/** Tells this process when any replica queued outbox rows; `stop` ends the telling. */
export interface OutboxWatch {
  start(added: () => void): void;
  stop(): Promise<void>;
}

/** One process on its own store: it queues every row itself and kicks its delivery then. */
export const noOutboxWatch: OutboxWatch = { start: () => undefined, stop: async () => undefined };
