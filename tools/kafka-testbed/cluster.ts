import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OWNER_FILE,
  WORK_PREFIX,
  freePorts,
  lastLines,
  launchBroker,
  randomClusterId,
  run,
  toProperties,
  withKafkaJars,
  writeLogConfigs,
  type BrokerProcess,
} from './broker.js';
import { parseKafkaVersion } from './jars.js';

/**
 * A three-broker KRaft cluster for tests that kill brokers: one dedicated controller (node 0,
 * a quorum of one that is never killed) and brokers 1..3 on free 127.0.0.1 ports, with every
 * internal topic at replication 3 and min.insync.replicas 2, so any one broker can die and
 * every partition keeps a leader and accepts acks=all writes.
 *
 * Why a dedicated controller rather than three combined nodes: killing a broker then kills
 * only a broker. The controller that fences it and moves its leaderships is the one that was
 * active all along, so failover takes broker.session.timeout.ms and nothing else, the same on
 * every run; with combined nodes one kill in three also loses the active controller and adds
 * a quorum election to the drill. The fourth JVM costs memory, not time: all four start in
 * parallel and the brokers wait for the controller anyway.
 */

export interface ClusterNode {
  nodeId: number;
  /** "127.0.0.1:PORT" of its client listener (controller: of its controller listener). */
  address: string;
  port: number;
  /** The running JVM's pid; a new one after restart(). */
  readonly pid: number;
  /** False between kill() and the end of restart(). */
  readonly running: boolean;
  /** Settles when the running JVM exits, whether through stop(), kill() or a crash. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** SIGKILL, as a crash: no shutdown runs, and the data stays for restart(). */
  kill(): Promise<void>;
  /** Kills the node if it runs, then starts it again on the same ports and data; resolves once it serves. */
  restart(): Promise<void>;
}

export interface KafkaCluster {
  /** Every broker, comma-separated: a --bootstrap-server value. */
  bootstrap: string;
  brokers: string[];
  version: string;
  clusterId: string;
  /** A -cp value ("<libs>/*") with the cluster's jars, reusable for Kafka's CLI tools. */
  classpath: string;
  controller: ClusterNode;
  brokerNodes: ClusterNode[];
  /** The broker with this node id (1..n). */
  broker(nodeId: number): ClusterNode;
  /** Addresses of the brokers that run now, comma-separated (for the CLI while one is down). */
  liveBootstrap(): string;
  /** "127.0.0.1:PORT" each broker binds for each extra listener of StartClusterOptions.listeners, by name, in broker order. */
  listeners: Record<string, string[]>;
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  version?: string;
  cacheDir?: string;
  log?: (line: string) => void;
  /** Number of brokers; 3 by default. Internal topics get min(brokers, 3) replicas. */
  brokers?: number;
  /** Extra or overriding server.properties entries of every broker. */
  brokerProps?: Record<string, string>;
  /** Per node; 120s by default (four JVMs share two cores at start). */
  startTimeoutMs?: number;
  /** JVM -Xmx of each broker; 384m by default. The controller gets 256m. */
  heap?: string;
  /** JVM -Xmx of the controller; 256m by default (tens of thousands of partitions need more). */
  controllerHeap?: string;
  /** More options for the broker JVMs, after the defaults (so -XX:TieredStopAtLevel=4 undoes the C1-only default). */
  jvmArgs?: string[];
  /** Plaintext listeners besides PLAINTEXT (which stays the inter-broker one), each broker on a free port. */
  listeners?: ClusterListener[];
}

export interface ClusterListener {
  /** Upper case, e.g. BENCH. */
  name: string;
  /** Ports advertised instead of the bound ones, by broker (1..n in order), e.g. a proxy's in front of each. */
  advertisedPorts?: number[];
}

const HOST = '127.0.0.1';
const CONTROLLER_ID = 0;

const COMMON_PROPERTIES: Readonly<Record<string, string>> = {
  'controller.listener.names': 'CONTROLLER',
  'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
  // The cleaner reserves this buffer up front (128 MiB by default): too much for a test JVM.
  'log.cleaner.dedupe.buffer.size': '2097152',
};

export function controllerProperties(opts: { controllerPort: number; logDir: string; replicas: number }): Record<string, string> {
  return {
    ...COMMON_PROPERTIES,
    // A KRaft controller writes its own min.insync.replicas into every topic it creates
    // (eligible leader replicas, 4.x), so the brokers' setting alone would leave topics at 1.
    'min.insync.replicas': String(Math.max(1, opts.replicas - 1)),
    'process.roles': 'controller',
    'node.id': String(CONTROLLER_ID),
    // A static voter set works for both 3.9 and 4.x and needs no --standalone at format time.
    'controller.quorum.voters': `${CONTROLLER_ID}@${HOST}:${opts.controllerPort}`,
    listeners: `CONTROLLER://${HOST}:${opts.controllerPort}`,
    'log.dirs': opts.logDir,
  };
}

export function clusterBrokerProperties(opts: {
  version: string;
  nodeId: number;
  port: number;
  controllerPort: number;
  logDir: string;
  replicas: number;
  extra?: Record<string, string>;
  listeners?: Array<{ name: string; port: number; advertisedPort?: number }>;
}): Record<string, string> {
  const { major } = parseKafkaVersion(opts.version);
  const rf = String(opts.replicas);
  const minIsr = String(Math.max(1, opts.replicas - 1));
  const props: Record<string, string> = {
    ...COMMON_PROPERTIES,
    'process.roles': 'broker',
    'node.id': String(opts.nodeId),
    'controller.quorum.voters': `${CONTROLLER_ID}@${HOST}:${opts.controllerPort}`,
    listeners: `PLAINTEXT://${HOST}:${opts.port}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${opts.port}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': opts.logDir,
    'num.partitions': '1',
    'default.replication.factor': rf,
    // With three replicas, acks=all survives one dead broker and still means two copies.
    'min.insync.replicas': minIsr,
    'auto.create.topics.enable': 'false',
    'offsets.topic.replication.factor': rf,
    // Fewer than the default 50: created and moved faster, and still enough for coordinators
    // spread over three brokers.
    'offsets.topic.num.partitions': '12',
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': minIsr,
    'transaction.state.log.num.partitions': '6',
    // Tests create groups and expect them to settle at once, not after the default 3s delay.
    'group.initial.rebalance.delay.ms': '0',
  };
  for (const l of opts.listeners ?? []) {
    props['listeners'] += `,${l.name}://${HOST}:${l.port}`;
    props['advertised.listeners'] += `,${l.name}://${HOST}:${l.advertisedPort ?? l.port}`;
    props['listener.security.protocol.map'] = `${props['listener.security.protocol.map'] ?? ''},${l.name}:PLAINTEXT`;
  }
  if (major >= 4) {
    props['share.coordinator.state.topic.replication.factor'] = rf;
    props['share.coordinator.state.topic.min.isr'] = minIsr;
    props['share.coordinator.state.topic.num.partitions'] = '6';
  }
  return { ...props, ...(opts.extra ?? {}) };
}

interface NodeSpec {
  nodeId: number;
  port: number;
  propsFile: string;
  heap: string;
}

/** Starts a fresh KRaft cluster: one controller and `brokers` brokers (3 by default). */
export async function startKafkaCluster(opts: StartClusterOptions = {}): Promise<KafkaCluster> {
  return withKafkaJars(opts, 'a node of the cluster', (ctx) => startClusterOnce({ ...ctx, opts }));
}

async function startClusterOnce(args: {
  version: string;
  java: string;
  classpath: string;
  log: (line: string) => void;
  opts: StartClusterOptions;
}): Promise<KafkaCluster> {
  const { version, java, classpath, log, opts } = args;
  const brokerCount = opts.brokers ?? 3;
  if (!Number.isInteger(brokerCount) || brokerCount < 1) throw new Error(`brokers must be a positive integer, got ${brokerCount}`);
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), WORK_PREFIX));
  await writeFile(join(work, OWNER_FILE), `${process.pid}\n`);
  const procs = new Map<number, BrokerProcess>();
  const onExit = () => {
    // Synchronous only: this runs inside process 'exit'.
    for (const p of procs.values()) {
      try {
        p.child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(work, { recursive: true, force: true });
  };
  process.on('exit', onExit);

  const killAll = async () => {
    await Promise.all(
      [...procs.values()].map(async (p) => {
        if (p.state.exited === null) p.child.kill('SIGKILL');
        await p.exited;
      }),
    );
  };

  try {
    const extraListeners = opts.listeners ?? [];
    const [controllerPort, ...ports] = (await freePorts(brokerCount * (1 + extraListeners.length) + 1)) as [number, ...number[]];
    const brokerPorts = ports.slice(0, brokerCount);
    /** Bound port of extra listener l on broker i. */
    const listenerPort = (l: number, i: number) => ports[brokerCount * (1 + l) + i] as number;
    const logCfg = await writeLogConfigs(work, { stream: 'stdout' });
    const replicas = Math.min(brokerCount, 3);
    const specs: NodeSpec[] = [];
    const write = async (nodeId: number, port: number, props: Record<string, string>, heap: string) => {
      const dir = join(work, `node-${nodeId}`);
      await mkdir(dir, { recursive: true });
      const propsFile = join(dir, 'server.properties');
      await writeFile(propsFile, toProperties(props) + '\n');
      specs.push({ nodeId, port, propsFile, heap });
    };
    await write(CONTROLLER_ID, controllerPort, controllerProperties({ controllerPort, logDir: join(work, 'node-0', 'data'), replicas }), opts.controllerHeap ?? '256m');
    for (const [i, port] of brokerPorts.entries()) {
      const nodeId = i + 1;
      await write(
        nodeId,
        port,
        clusterBrokerProperties({
          version,
          nodeId,
          port,
          controllerPort,
          logDir: join(work, `node-${nodeId}`, 'data'),
          replicas,
          extra: opts.brokerProps,
          listeners: extraListeners.map((l, li) => ({ name: l.name, port: listenerPort(li, i), ...(l.advertisedPorts?.[i] ? { advertisedPort: l.advertisedPorts[i] } : {}) })),
        }),
        opts.heap ?? '384m',
      );
    }

    const toolJvm = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', ...logCfg.jvmArgs, '-cp', classpath];
    const clusterId = randomClusterId();
    // One StorageTool run per node, all at once: each is a short JVM start.
    const formatting = Date.now();
    await Promise.all(
      specs.map(async (s) => {
        const fmt = await run(java, [...toolJvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', s.propsFile], 60_000);
        if (fmt.code !== 0) {
          throw new Error(`Formatting node ${s.nodeId} of the Kafka ${version} cluster failed (exit ${fmt.code}):\n${lastLines(fmt.out, 30)}`);
        }
      }),
    );

    log(`Kafka ${version} cluster: ${specs.length} nodes formatted in ${((Date.now() - formatting) / 1000).toFixed(1)}s`);

    const launchOf = (s: NodeSpec) => ({
      version: `${version} ${s.nodeId === CONTROLLER_ID ? 'controller' : 'broker'} ${s.nodeId}`,
      java,
      args: [
        `-Xmx${s.heap}`,
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Djava.awt.headless=true',
        ...logCfg.jvmArgs,
        ...(s.nodeId === CONTROLLER_ID ? [] : (opts.jvmArgs ?? [])),
        '-cp',
        classpath,
        'kafka.Kafka',
        s.propsFile,
      ],
      port: s.port,
      log,
      timeoutMs: opts.startTimeoutMs ?? 120_000,
    });
    const launch = async (s: NodeSpec) => {
      const p = await launchBroker(launchOf(s));
      procs.set(s.nodeId, p);
      return p;
    };
    // All at once: brokers retry the controller until it answers, and each launch resolves
    // only once its node serves (a broker: registered and unfenced).
    const results = await Promise.allSettled(specs.map(launch));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    log(
      `Kafka ${version} cluster ready in ${((Date.now() - started) / 1000).toFixed(1)}s: controller ${HOST}:${controllerPort}, ` +
        `brokers ${brokerPorts.map((p, i) => `${i + 1}@${HOST}:${p}`).join(' ')}`,
    );

    let stopping: Promise<void> | null = null;
    /** Restarts under way: stop() lets them finish, so no JVM is spawned after it looked. */
    const restarts = new Map<number, Promise<void>>();
    const nodeOf = (s: NodeSpec): ClusterNode => {
      const live = (): BrokerProcess => {
        const p = procs.get(s.nodeId);
        if (!p) throw new Error(`no process for Kafka node ${s.nodeId}`);
        return p;
      };
      let restarting: Promise<void> | null = null;
      const kill = async (): Promise<void> => {
        const p = live();
        if (p.state.exited === null) p.child.kill('SIGKILL');
        await p.exited;
      };
      return {
        nodeId: s.nodeId,
        address: `${HOST}:${s.port}`,
        port: s.port,
        get pid() {
          return live().child.pid ?? -1;
        },
        get running() {
          return restarting === null && live().state.exited === null;
        },
        get exited() {
          return live().exited;
        },
        kill,
        restart() {
          if (stopping) return Promise.reject(new Error('the Kafka cluster was stopped; its nodes cannot restart'));
          if (restarting) return restarting;
          restarting = (async () => {
            await kill();
            const again = Date.now();
            // Same ports, same log dir: a restart after a crash, with its log recovery.
            await launch(s);
            log(`Kafka ${version} node ${s.nodeId} restarted on ${HOST}:${s.port} in ${((Date.now() - again) / 1000).toFixed(1)}s (pid ${live().child.pid})`);
          })().finally(() => {
            restarts.delete(s.nodeId);
            restarting = null;
          });
          restarts.set(s.nodeId, restarting);
          return restarting;
        },
      };
    };
    const [controllerSpec, ...brokerSpecs] = specs as [NodeSpec, ...NodeSpec[]];
    const controller = nodeOf(controllerSpec);
    const brokerNodes = brokerSpecs.map(nodeOf);
    const brokers = brokerNodes.map((n) => n.address);
    return {
      bootstrap: brokers.join(','),
      brokers,
      version,
      clusterId,
      classpath,
      controller,
      brokerNodes,
      broker(nodeId) {
        const node = brokerNodes.find((n) => n.nodeId === nodeId);
        if (!node) throw new Error(`no broker ${nodeId} in this cluster (brokers ${brokerNodes.map((n) => n.nodeId).join(', ')})`);
        return node;
      },
      listeners: Object.fromEntries(extraListeners.map((l, li) => [l.name, brokerPorts.map((_, i) => `${HOST}:${listenerPort(li, i)}`)])),
      liveBootstrap() {
        return brokerNodes
          .filter((n) => n.running)
          .map((n) => n.address)
          .join(',');
      },
      stop() {
        stopping ??= (async () => {
          await Promise.allSettled(restarts.values());
          // SIGKILL, not SIGTERM: the data is wiped next, so a controlled shutdown would only
          // cost time, and brokers that all shut down at once wait on each other for their
          // leaderships (each took over 10s that way).
          await killAll();
          process.off('exit', onExit);
          await rm(work, { recursive: true, force: true, maxRetries: 3 });
        })();
        return stopping;
      },
    };
  } catch (err) {
    await killAll();
    process.off('exit', onExit);
    await rm(work, { recursive: true, force: true, maxRetries: 3 });
    throw err;
  }
}
