import { readFile } from 'node:fs/promises';

/** The parts of a V8 .cpuprofile (what `node --cpu-prof` writes) this summary reads. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time by where the code lives: kafkajs, lagbot's own modules, Bolt, Node, GC, idle. */
  byArea: Array<{ area: string; ms: number; pct: number }>;
  topFunctions: Array<{ fn: string; area: string; ms: number; pct: number }>;
}

function areaOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle (waiting on I/O)';
    if (functionName === '(program)') return 'V8/native';
    return 'native';
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1] === 'kafkajs' ? `kafkajs ${/kafkajs\/src\/([^/]+)/.exec(url)?.[1] ?? ''}`.trim() : (pkg[1] as string);
  const own = /\/dist\/([^/]+)\//.exec(url) ?? /\/src\/([^/]+)\//.exec(url);
  if (own) return `lagbot ${own[1]}`;
  if (url.startsWith('node:')) return 'node';
  return 'other';
}

export async function summarizeProfile(file: string, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byArea = new Map<string, number>();
  const byFn = new Map<string, { area: string; us: number }>();
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame) continue;
    const area = areaOf(frame.url, frame.functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const file = frame.url.split('/').slice(-2).join('/');
    const fn = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    const entry = byFn.get(fn) ?? { area, us: 0 };
    entry.us += us;
    byFn.set(fn, entry);
  }
  const pct = (us: number) => Math.round((us / Math.max(1, totalUs)) * 1000) / 10;
  const ms = (us: number) => Math.round(us / 100) / 10;
  return {
    totalMs: ms(totalUs),
    byArea: [...byArea.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, ms: ms(us), pct: pct(us) })),
    topFunctions: [...byFn.entries()]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([fn, { area, us }]) => ({ fn, area, ms: ms(us), pct: pct(us) })),
  };
}
