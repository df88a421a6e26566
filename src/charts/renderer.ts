import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LagChart } from '../core/chart.js';

/**
 * Charts are drawn in a process of their own. Vega, Vega-Lite and resvg cost a long-running
 * lagbot about 45 MB of resident memory once loaded (BENCHMARKS.md, "Live RSS under 200 MB"),
 * for a few charts an hour; a renderer process loads them only while there are charts to draw,
 * and exits after a short idle time. It also keeps a renderer fault out of the monitor.
 */

/** The renderer could not be reached or did not answer in time: drawing again may work. */
export class RendererUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RendererUnavailableError';
  }
}

export interface ChartRendererOptions {
  /** The renderer exits after this long with nothing to draw. */
  idleMs?: number;
  /** One chart taking longer than this is given up (the renderer is restarted). */
  timeoutMs?: number;
  /** The renderer's module; by default the built render-process.js beside this one. */
  entry?: string;
}

type Answer = { id: number; ok: true; png: Uint8Array } | { id: number; ok: false; message: string };

interface Pending {
  resolve: (png: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Under vitest this module runs from src/ as TypeScript, which node cannot start as a process:
 * the renderer is then the built one (`npm test` builds before it runs the tests).
 */
function defaultEntry(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'render-process.js');
  return join(dirname(here), '..', '..', 'dist', 'charts', 'render-process.js');
}

export class ChartRenderer {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly idleMs: number;
  private readonly timeoutMs: number;
  private readonly entry: string;

  constructor(options: ChartRendererOptions = {}) {
    this.idleMs = options.idleMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.entry = options.entry ?? defaultEntry();
  }

  /** The renderer's pid while it runs, for tests and logs. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  render(chart: LagChart): Promise<Buffer> {
    let child: ChildProcess;
    try {
      child = this.running();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.cancelIdle();
    const id = this.nextId++;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RendererUnavailableError(`the chart renderer gave no answer within ${this.timeoutMs / 1000} s; it is restarted for the next chart`));
        this.stop();
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      child.send({ id, chart }, (err) => {
        if (err) this.settle(id, new RendererUnavailableError(`cannot send the chart to its renderer: ${err.message}`));
      });
    });
  }

  /** Ends the renderer; charts still being drawn fail as unavailable. */
  stop(): void {
    this.cancelIdle();
    const child = this.child;
    this.child = null;
    if (child) {
      child.removeAllListeners();
      child.on('error', () => undefined);
      if (child.connected) child.disconnect();
      child.kill();
    }
    this.failAll('the chart renderer was stopped');
  }

  private running(): ChildProcess {
    if (this.child) return this.child;
    if (!existsSync(this.entry)) {
      throw new RendererUnavailableError(`the chart renderer ${this.entry} does not exist: build lagbot first (npm run build)`);
    }
    // Advanced serialization carries the PNG bytes as bytes, not as a JSON array of numbers.
    const child = fork(this.entry, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.on('message', (message: Answer) => {
      const outcome = message.ok ? Buffer.from(message.png) : new Error(message.message);
      this.settle(message.id, outcome);
    });
    child.on('error', (err) => this.lost(child, `the chart renderer failed: ${err.message}`));
    child.on('exit', (code, signal) => this.lost(child, `the chart renderer exited (${signal ?? `code ${code}`}) while drawing`));
    // Neither the renderer nor its channel keeps lagbot running.
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }

  private settle(id: number, outcome: Buffer | Error): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome);
    if (this.pending.size === 0) this.scheduleIdle();
  }

  private lost(child: ChildProcess, message: string): void {
    if (this.child !== child) return;
    this.child = null;
    this.cancelIdle();
    this.failAll(message);
  }

  private failAll(message: string): void {
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(new RendererUnavailableError(message));
    }
  }

  private scheduleIdle(): void {
    this.cancelIdle();
    this.idleTimer = setTimeout(() => this.stop(), this.idleMs);
    this.idleTimer.unref();
  }

  private cancelIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

let shared: ChartRenderer | null = null;

/** lagbot's one chart renderer, started at the first chart. */
export function chartRenderer(): ChartRenderer {
  shared ??= new ChartRenderer();
  return shared;
}

/** Ends the shared renderer if it runs (lagbot stopping); a later chart starts it again. */
export function stopChartRenderer(): void {
  shared?.stop();
}
