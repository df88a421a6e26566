import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { repoRoot } from '../repo-root.js';

/** The shipped product's own bin, as a user runs it. */
const LAGBOT_BIN = join(repoRoot(), 'bin', 'lagbot.js');

export interface LagbotProcessOptions {
  env: Record<string, string>;
  port: number;
  log: (line: string) => void;
}

/**
 * The real `lagbot start`, run as its own process the way it runs in production. If it
 * dies, it is started again on the same port and database, so the incident goes on in
 * the same thread (and a person can kill it to see that).
 */
export class LagbotProcess {
  private child: ChildProcess | null = null;
  private stopping = false;
  private restarts = 0;

  constructor(private readonly options: LagbotProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    this.spawn();
    await this.ready();
  }

  private spawn(): void {
    const child = spawn(process.execPath, [LAGBOT_BIN, 'start'], {
      env: { PATH: process.env.PATH ?? '', ...this.options.env, PORT: String(this.options.port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (b: Buffer) => {
      for (const line of b.toString().split('\n')) if (line.trim()) this.options.log(`lagbot: ${line.slice(0, 300)}`);
    });
    child.on('exit', (code, signal) => {
      if (this.stopping) return;
      this.restarts += 1;
      this.options.log(`lagbot exited (${signal ?? code}); starting it again (restart ${this.restarts})`);
      setTimeout(() => {
        if (!this.stopping) this.spawn();
      }, 1_000);
    });
    this.child = child;
  }

  /** Wait until /healthz answers. */
  async ready(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${this.options.port}/healthz`);
        if (res.status < 500 || res.status === 503) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > until) throw new Error(`lagbot did not start on port ${this.options.port} within ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
