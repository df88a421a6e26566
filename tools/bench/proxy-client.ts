import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProxyCounts } from './request-proxy.js';
import type { ProxyEnvelope, ProxyReply, ProxyRequest } from './request-proxy-process.js';

/** The benchmark's handle on the counting proxy's process (request-proxy-process.ts). */
export class ProxyClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: ProxyReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(`request proxy: ${reply.error}`));
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      for (const waiter of this.pending.values()) waiter.reject(new Error(`request proxy exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  static start(): ProxyClient {
    const script = fileURLToPath(new URL('./request-proxy-process.js', import.meta.url));
    return new ProxyClient(fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private call<T>(request: ProxyRequest): Promise<T> {
    if (this.exited) return Promise.reject(new Error('request proxy is not running'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const envelope: ProxyEnvelope = { id, request };
      this.child.send(envelope);
    });
  }

  /** A new listening port on 127.0.0.1; connections to it are refused until route() names its broker. */
  listen(): Promise<number> {
    return this.call({ kind: 'listen' });
  }

  route(port: number, target: string): Promise<null> {
    const [host, p] = target.split(':') as [string, string];
    return this.call({ kind: 'route', port, target: { host, port: Number(p) } });
  }

  /** Counts by client.id since the last take(). */
  take(): Promise<ProxyCounts> {
    return this.call({ kind: 'take' });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      await Promise.race([this.call({ kind: 'stop' }), new Promise((r) => setTimeout(r, 5_000))]);
    } catch {
      // exiting anyway
    }
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}
