import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

  private constructor(private readonly child: ChildProcess) {
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

  static start(nodeOptions: readonly string[] = []): ProbeClient {
    const script = fileURLToPath(new URL('./probe.js', import.meta.url));
    // The node flags of `lagbot start` (none), plus only what --node-options asks for.
    const child = fork(script, [], { execArgv: [...nodeOptions], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new ProbeClient(child);
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
