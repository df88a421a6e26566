/** Command-line options of `npm run bench`. */

export interface Scale {
  groups: number;
  topics: number;
  partitions: number;
}

export interface BenchOptions {
  scales: Scale[];
  /** Check cycles measured per phase, after warm-up. */
  cycles: number;
  warmup: number;
  /** Samples of history per group (an hour at 30 s). */
  historySamples: number;
  historyIntervalMs: number;
  /** While history is filled, each group commits other offsets every this many checks; 0: the state stays still. */
  commitEvery: number;
  /** `/lag GROUP` commands sent one after another. */
  lagAlone: number;
  /** `/lag GROUP` commands sent while `inFlight` are outstanding. */
  lagConcurrent: number;
  inFlight: number;
  /** Partitions of the group `/lag` is timed on. */
  widePartitions: number;
  toolRuns: number;
  out: string;
  /** Directory for .cpuprofile files of the measured cycles and /lag runs; null: no profiling. */
  cpuProf: string | null;
  /** Directory for sampling heap profiles (.heapprofile, garbage included) of the measured cycles; null: none. */
  allocProf: string | null;
  /** Directory for a V8 heap snapshot of the lagbot process after the live RSS samples (hour of history); null: none. */
  heapSnapshot: string | null;
  brokerHeap: string | null;
  /** Extra node flags for the measured lagbot process, e.g. --max-semi-space-size=2. */
  nodeOptions: string[];
  /** Extra environment of the measured lagbot process (NAME=VALUE), e.g. glibc's MALLOC_ARENA_MAX. */
  env: Record<string, string>;
  /** lagbot under plain node, without bin/lagbot's start-up settings. */
  bare: boolean;
  /** Local brokers: 1 (one combined broker+controller) or more (the test bed's cluster, a dedicated controller). */
  brokers: number;
  /** Warm-up cycles of the Java reference before its measured cycles; 0: no Java reference. */
  javaWarmup: number;
  /** No counting proxy: lagbot connects to the broker itself and its requests are counted on its side only. */
  direct: boolean;
  /** Count lagbot's requests on its own side too (kafkajs socketFactory), as a cross-check of the broker-side count. */
  countLagbotSide: boolean;
  help: boolean;
}

export const DEFAULT_SCALE: Scale = { groups: 500, topics: 100, partitions: 5_000 };

/** Topics when a scale names only groups and partitions: 50 partitions a topic. */
const PARTITIONS_PER_TOPIC = 50;

export const USAGE = `npm run bench -- [options]

Builds a cluster state on a local Kafka broker (or KAFKA_BROKERS), then measures lagbot's
check cycle, Kafka requests per cycle, memory with an hour of history, /lag latency through
the Bolt app, and Kafka's own kafka-consumer-groups on the same state.

  --groups N           consumer groups (default ${DEFAULT_SCALE.groups})
  --topics N           topics (default ${DEFAULT_SCALE.topics})
  --partitions N       partitions over all topics (default ${DEFAULT_SCALE.partitions})
  --scales LIST        several scales in one run, each on a fresh broker:
                       GROUPSxPARTITIONS (topics = partitions / ${PARTITIONS_PER_TOPIC}) or GROUPSxTOPICSxPARTITIONS,
                       e.g. 100x1000,500x5000,1000x10000
  --cycles N           measured check cycles per phase (default 20)
  --warmup N           warm-up cycles (default 3)
  --history-samples N  history samples per group before the memory reading (default 120)
  --commit-every N     while history is filled, each group commits other offsets every N checks
                       (default 8; 0: nothing moves, every lagging partition looks stalled)
  --lag-alone N        /lag commands one at a time (default 200)
  --lag-concurrent N   /lag commands with --in-flight outstanding (default 400)
  --in-flight N        (default 20)
  --wide-partitions N  partitions of the group /lag is timed on (default 1000)
  --tool-runs N        runs of kafka-consumer-groups --describe --all-groups (default 3)
  --out FILE           results as JSON (default .cache/bench/results.json)
  --cpu-prof DIR       write V8 CPU profiles (.cpuprofile) of the measured phases to DIR
  --alloc-prof DIR     write sampling heap profiles (.heapprofile) of what the measured check cycles
                       allocate, garbage included, to DIR (live RSS is then not sampled over them)
  --heap-snapshot DIR  write a V8 heap snapshot of lagbot with an hour of history to DIR (after the RSS readings)
  --broker-heap SIZE   broker JVM heap (default: 1g, 2g above 5,000 partitions)
  --node-options FLAGS node flags for the measured lagbot process, on top of (or instead of, where they
                       set the same thing) those of the launcher bin/lagbot start
  --env NAME=VALUE     environment for the measured lagbot process, as an operator's beside the launcher's
                       (repeatable; NAME= with nothing after it removes NAME), e.g. MALLOC_ARENA_MAX=4
  --bare               run lagbot as \`node bin/lagbot.js\` does, without the launcher's settings
  --brokers N          local brokers (default 1; more start the test bed's cluster with a dedicated
                       controller, needed above ~15,000 partitions where one broker runs out of files)
  --java-warmup N      warm-up cycles of the Java AdminClient reference (default 10; 0: no reference)
  --direct             no counting proxy in front of the broker: requests counted on lagbot's side only
  --count-lagbot-side  count lagbot's requests on its side too (kafkajs socketFactory), a cross-check
`;

function positiveInt(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer, got ${value ?? 'nothing'}`);
  return n;
}

function nonNegativeInt(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number, got ${value ?? 'nothing'}`);
  return n;
}

export function parseScale(text: string): Scale {
  const parts = text.trim().toLowerCase().split('x').map((p) => Number(p.replace(/[_,]/g, '')));
  if (parts.some((n) => !Number.isInteger(n) || n < 1) || (parts.length !== 2 && parts.length !== 3)) {
    throw new Error(`Bad scale "${text}": expected GROUPSxPARTITIONS or GROUPSxTOPICSxPARTITIONS, e.g. 500x5000`);
  }
  const [groups, a, b] = parts as [number, number, number | undefined];
  const scale = b === undefined ? { groups, topics: Math.max(1, Math.round(a / PARTITIONS_PER_TOPIC)), partitions: a } : { groups, topics: a, partitions: b };
  return checkScale(scale);
}

function checkScale(scale: Scale): Scale {
  if (scale.partitions < scale.topics) throw new Error(`${scale.partitions} partitions cannot be spread over ${scale.topics} topics`);
  return scale;
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = {
    scales: [],
    cycles: 20,
    warmup: 3,
    historySamples: 120,
    historyIntervalMs: 30_000,
    commitEvery: 8,
    lagAlone: 200,
    lagConcurrent: 400,
    inFlight: 20,
    widePartitions: 1_000,
    toolRuns: 3,
    out: '.cache/bench/results.json',
    cpuProf: null,
    allocProf: null,
    heapSnapshot: null,
    brokerHeap: null,
    nodeOptions: [],
    env: {},
    bare: false,
    brokers: 1,
    javaWarmup: 10,
    direct: false,
    countLagbotSide: false,
    help: false,
  };
  const single: Partial<Scale> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i] as string;
    const value = (): string | undefined => argv[++i];
    switch (flag) {
      case '--groups':
        single.groups = positiveInt(flag, value());
        break;
      case '--topics':
        single.topics = positiveInt(flag, value());
        break;
      case '--partitions':
        single.partitions = positiveInt(flag, value());
        break;
      case '--scales':
        options.scales = (value() ?? '').split(',').filter((s) => s.trim() !== '').map(parseScale);
        if (options.scales.length === 0) throw new Error('--scales needs at least one scale, e.g. 500x5000');
        break;
      case '--cycles':
        options.cycles = positiveInt(flag, value());
        break;
      case '--warmup':
        options.warmup = nonNegativeInt(flag, value());
        break;
      case '--history-samples':
        options.historySamples = positiveInt(flag, value());
        break;
      case '--commit-every':
        options.commitEvery = nonNegativeInt(flag, value());
        break;
      case '--lag-alone':
        options.lagAlone = nonNegativeInt(flag, value());
        break;
      case '--lag-concurrent':
        options.lagConcurrent = nonNegativeInt(flag, value());
        break;
      case '--in-flight':
        options.inFlight = positiveInt(flag, value());
        break;
      case '--wide-partitions':
        options.widePartitions = positiveInt(flag, value());
        break;
      case '--tool-runs':
        options.toolRuns = nonNegativeInt(flag, value());
        break;
      case '--out': {
        const out = value();
        if (!out) throw new Error('--out needs a file name');
        options.out = out;
        break;
      }
      case '--cpu-prof': {
        const dir = value();
        if (!dir) throw new Error('--cpu-prof needs a directory');
        options.cpuProf = dir;
        break;
      }
      case '--alloc-prof': {
        const dir = value();
        if (!dir) throw new Error('--alloc-prof needs a directory');
        options.allocProf = dir;
        break;
      }
      case '--heap-snapshot': {
        const dir = value();
        if (!dir) throw new Error('--heap-snapshot needs a directory');
        options.heapSnapshot = dir;
        break;
      }
      case '--broker-heap': {
        const heap = value();
        if (!heap || !/^\d+[mg]$/i.test(heap)) throw new Error(`--broker-heap needs a JVM size such as 2g, got ${heap ?? 'nothing'}`);
        options.brokerHeap = heap;
        break;
      }
      case '--node-options':
        options.nodeOptions = (value() ?? '').split(/\s+/).filter((f) => f !== '');
        break;
      case '--env': {
        const pair = value() ?? '';
        const eq = pair.indexOf('=');
        if (eq < 1) throw new Error(`--env needs NAME=VALUE, got ${pair || 'nothing'}`);
        options.env[pair.slice(0, eq)] = pair.slice(eq + 1);
        break;
      }
      case '--bare':
        options.bare = true;
        break;
      case '--brokers':
        options.brokers = positiveInt(flag, value());
        break;
      case '--java-warmup':
        options.javaWarmup = nonNegativeInt(flag, value());
        break;
      case '--direct':
        options.direct = true;
        break;
      case '--count-lagbot-side':
        options.countLagbotSide = true;
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      default:
        throw new Error(`Unknown option ${flag}\n\n${USAGE}`);
    }
  }
  if (options.scales.length > 0 && Object.keys(single).length > 0) {
    throw new Error('Give either --scales or --groups/--topics/--partitions, not both');
  }
  if (options.scales.length === 0) {
    const partitions = single.partitions ?? DEFAULT_SCALE.partitions;
    const topics = single.topics ?? (single.partitions ? Math.max(1, Math.round(partitions / PARTITIONS_PER_TOPIC)) : DEFAULT_SCALE.topics);
    options.scales = [checkScale({ groups: single.groups ?? DEFAULT_SCALE.groups, topics, partitions })];
  }
  return options;
}
