import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launcherSettings } from './launcher.js';
import type {
  CycleResult,
  InitResult,
  MemoryReading,
  ProbeEnvelope,
  ProbeReply,
  ProbeRequest,
  TotalsResult,
} from './probe-protocol.js';

/** The benchmark's handle on the lagbot process under measurement. */
export class ProbeClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly execArgv: string[],
    private readonly glibcTunables: string | null,
  ) {
    child.on('message', (reply: ProbeReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(`lagbot probe: ${reply.error}`));
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      for (const waiter of this.pending.values()) waiter.reject(new Error(`lagbot probe exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  /**
   * The lagbot process, with the node flags and environment `bin/lagbot start` would give it
   * (unless `bare`: node as `node bin/lagbot.js` runs), plus --node-options and --env, which
   * the launcher sees as an operator's and leaves alone.
   */
  static start(options: { nodeOptions?: readonly string[]; env?: Readonly<Record<string, string>>; bare?: boolean } = {}): ProbeClient {
    const script = fileURLToPath(new URL('./probe.js', import.meta.url));
    const nodeOptions = options.nodeOptions ?? [];
    let env: Record<string, string | undefined> = { ...process.env };
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (value === '') delete env[name];
      else env[name] = value;
    }
    let execArgv = [...nodeOptions];
    if (!options.bare) {
      const launched = launcherSettings(['start'], env, nodeOptions);
      env = launched.env;
      execArgv = [...launched.execArgv, ...nodeOptions];
    }
    const child = fork(script, [], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new ProbeClient(child, execArgv, env.GLIBC_TUNABLES ?? null);
  }

  /** The node flags and glibc tunables the process was started with, for the results. */
  get launchedWith(): { execArgv: string[]; glibcTunables: string | null } {
    return { execArgv: this.execArgv, glibcTunables: this.glibcTunables };
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private call<T>(request: ProbeRequest): Promise<T> {
    if (this.exited) return Promise.reject(new Error('lagbot probe is not running'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const envelope: ProbeEnvelope = { id, request };
      this.child.send(envelope);
    });
  }

  init(request: Omit<Extract<ProbeRequest, { kind: 'init' }>, 'kind'>): Promise<InitResult> {
    return this.call({ kind: 'init', ...request });
  }

  cycles(count: number, advanceMs: number): Promise<CycleResult[]> {
    return this.call({ kind: 'cycles', count, advanceMs });
  }

  /** gc: after two forced full collections; otherwise the process as it runs. */
  memory(gc = false): Promise<MemoryReading> {
    return this.call({ kind: 'memory', gc });
  }

  totals(): Promise<TotalsResult> {
    return this.call({ kind: 'totals' });
  }

  profileStart(): Promise<null> {
    return this.call({ kind: 'profile-start' });
  }

  profileStop(file: string): Promise<string> {
    return this.call({ kind: 'profile-stop', file });
  }

  allocProfileStart(): Promise<null> {
    return this.call({ kind: 'alloc-profile-start' });
  }

  allocProfileStop(file: string): Promise<string> {
    return this.call({ kind: 'alloc-profile-stop', file });
  }

  heapSnapshot(file: string): Promise<string> {
    return this.call({ kind: 'heap-snapshot', file });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      await Promise.race([this.call({ kind: 'stop' }), new Promise((r) => setTimeout(r, 10_000))]);
    } catch {
      // exiting anyway
    }
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}
