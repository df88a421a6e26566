import { describe, expect, it } from 'vitest';
import { parseLagCommand, type LagRequest } from '../../src/core/command.js';
import { DEFAULT_RULES } from '../../src/core/rules.js';
import { computeGroupLag } from '../../src/core/lag.js';
import { answerLag } from '../../src/core/lag-query.js';
import { LagUnavailableError, type LagSource } from '../../src/core/ports.js';
import type { GroupLag } from '../../src/core/protocol.js';
import { lagAnswerMessage } from '../../src/views/lag-message.js';
import { caseStudyOffsets, caseStudySnapshot } from '../support/fixtures.js';

/** A cluster's answers as plain data: the port the query reads, with a delay or a failure when asked. */
function cluster(name: string, groups: string[], behaviour: { delayMs?: number; down?: string } = {}): LagSource & { reads: number } {
  const lagOf = (group: string): GroupLag => computeGroupLag(caseStudySnapshot({ cluster: name, group }), caseStudyOffsets(), 1_000);
  const answer = async <T>(value: () => T): Promise<T> => {
    source.reads += 1;
    if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
    if (behaviour.down) throw new LagUnavailableError(`cluster ${name}: ${behaviour.down}`, name, ['b:9092']);
    return value();
  };
  const source = {
    cluster: name,
    reads: 0,
    readGroup: (group: string) => answer(() => (groups.includes(group) ? lagOf(group) : null)),
    readAllGroups: () => answer(() => groups.map(lagOf)),
    listGroupNames: () => answer(() => [...groups]),
  };
  return source;
}

const deps = (sources: LagSource[], graceMs = 2_000) => ({ sources, clock: { now: () => 5_000 }, findingSettings: DEFAULT_RULES.signals, graceMs });

const request = (text: string): LagRequest => {
  const parsed = parseLagCommand(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.request;
};

describe('the lag query over several clusters', () => {
  const prod = () => cluster('prod-eu', ['user-events-consumer', 'billing']);
  const staging = () => cluster('staging', ['user-events-consumer', 'staging-only']);

  it('answers from the one cluster that has the group', async () => {
    const answer = await answerLag(request('billing'), deps([prod(), staging()]));
    expect(answer.kind).toBe('group');
    if (answer.kind !== 'group') return;
    expect(answer.found.map((f) => f.lag.cluster)).toEqual(['prod-eu']);
    const message = lagAnswerMessage(answer);
    expect(message.text).toContain('on prod-eu');
    expect(JSON.stringify(message.blocks)).toContain('Consumer lag: billing on prod-eu');
  });

  it('answers with a section per cluster when several have the group', async () => {
    const answer = await answerLag(request('user-events-consumer'), deps([prod(), staging()]));
    if (answer.kind !== 'group') throw new Error(answer.kind);
    expect(answer.found.map((f) => f.lag.cluster)).toEqual(['prod-eu', 'staging']);
    const message = lagAnswerMessage(answer);
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain('Found in 2 clusters');
    expect(blocks).toContain('/lag user-events-consumer in prod-eu');
    expect(blocks).toContain('/lag user-events-consumer in staging');
    expect(message.text).toBe('`user-events-consumer`: prod-eu 5,095,533, staging 5,095,533');
  });

  it('reads only the cluster named with "in CLUSTER"', async () => {
    const p = prod();
    const s = staging();
    const answer = await answerLag(request('user-events-consumer in staging'), deps([p, s]));
    if (answer.kind !== 'group') throw new Error(answer.kind);
    expect(answer.found.map((f) => f.lag.cluster)).toEqual(['staging']);
    expect(p.reads).toBe(0);
  });

  it('names the known clusters for an unknown one', async () => {
    const answer = await answerLag(request('billing in prod-us'), deps([prod(), staging()]));
    expect(answer).toEqual({ kind: 'unknown-cluster', cluster: 'prod-us', known: ['prod-eu', 'staging'] });
    expect(lagAnswerMessage(answer).blocks[0]).toMatchObject({ text: { text: expect.stringContaining('Known clusters: `prod-eu`, `staging`') } });
  });

  it('lists every cluster, a table each, and names a cluster that could not be read', async () => {
    const answer = await answerLag(request('list'), deps([prod(), cluster('dr', [], { down: 'connection refused by b:9092' }), staging()]));
    if (answer.kind !== 'list') throw new Error(answer.kind);
    expect(answer.clusters.map((c) => [c.cluster, c.listings.map((l) => l.group)])).toEqual([
      ['prod-eu', ['billing', 'user-events-consumer']],
      ['staging', ['staging-only', 'user-events-consumer']],
    ]);
    expect(answer.unavailable).toEqual([{ cluster: 'dr', detail: 'cluster dr: connection refused by b:9092' }]);
    const blocks = JSON.stringify(lagAnswerMessage(answer).blocks);
    expect(blocks).toContain('*prod-eu*, largest total lag first');
    expect(blocks).toContain('*dr* could not be read: cluster dr: connection refused by b:9092');
  });

  it('does not wait for a slow cluster longer than the grace after the first answer', async () => {
    const started = Date.now();
    const answer = await answerLag(request('billing'), deps([prod(), cluster('slow', ['billing'], { delayMs: 5_000 })], 200));
    const took = Date.now() - started;
    if (answer.kind !== 'group') throw new Error(answer.kind);
    expect(answer.found.map((f) => f.lag.cluster)).toEqual(['prod-eu']);
    expect(answer.unavailable).toEqual([{ cluster: 'slow', detail: 'no answer within 0.2 s of the other clusters; left out of this answer' }]);
    expect(took).toBeLessThan(2_000);
  });

  it('keeps the other clusters\' answer when one fails in a way nobody foresaw', async () => {
    const broken: LagSource = { ...prod(), cluster: 'broken', readAllGroups: () => Promise.reject(new Error('Failed to find group coordinator')) };
    const answer = await answerLag(request('list'), deps([broken, staging()]));
    if (answer.kind !== 'list') throw new Error(answer.kind);
    expect(answer.clusters.map((c) => c.cluster)).toEqual(['staging']);
    expect(answer.unavailable).toEqual([{ cluster: 'broken', detail: 'unexpected error reading cluster broken: Failed to find group coordinator' }]);
  });

  it('is unavailable only when no cluster could be read, and names each', async () => {
    const answer = await answerLag(request('billing'), deps([cluster('a', [], { down: 'timeout' }), cluster('b', [], { down: 'auth failed' })]));
    expect(answer).toEqual({
      kind: 'unavailable',
      problems: [
        { cluster: 'a', detail: 'cluster a: timeout' },
        { cluster: 'b', detail: 'cluster b: auth failed' },
      ],
    });
  });

  it('suggests names from every reachable cluster for an unknown group, and says where it looked', async () => {
    const answer = await answerLag(request('staging-onyl'), deps([prod(), staging(), cluster('dr', [], { down: 'timeout' })]));
    expect(answer).toMatchObject({ kind: 'unknown-group', suggestions: ['staging-only'], searched: ['prod-eu', 'staging'] });
    expect(JSON.stringify(lagAnswerMessage(answer).blocks)).toContain('on prod-eu, staging');
  });
});

describe('/lag ... in CLUSTER', () => {
  it.each([
    ['orders in prod-eu', { kind: 'group', group: 'orders', view: 'partitions', cluster: 'prod-eu' }],
    ['orders members in prod-eu', { kind: 'group', group: 'orders', view: 'members', cluster: 'prod-eu' }],
    ['list in staging', { kind: 'list', cluster: 'staging' }],
    ['in staging', { kind: 'list', cluster: 'staging' }],
    ['orders --cluster prod-eu', { kind: 'group', group: 'orders', view: 'partitions', cluster: 'prod-eu' }],
    ['group in', { kind: 'group', group: 'in', view: 'partitions' }],
  ])('parses %j', (text, expected) => {
    expect(parseLagCommand(text)).toEqual({ ok: true, request: expected });
  });

  it('asks for the cluster name when "in" ends the command', () => {
    expect(parseLagCommand('orders in')).toEqual({ ok: false, error: expect.stringContaining('needs a cluster name after it') });
  });
});

describe('the lag query within what the asker may read', () => {
  const prod = () => cluster('prod-eu', ['user-events-consumer', 'billing', 'billing-ledger']);
  const staging = () => cluster('staging', ['user-events-consumer', 'staging-only']);
  const notBilling = { visible: (ref: { cluster: string; group: string }) => !ref.group.startsWith('billing') };

  it('lists only the visible groups', async () => {
    const answer = await answerLag(request('list'), { ...deps([prod(), staging()]), ...notBilling });
    if (answer.kind !== 'list') throw new Error(answer.kind);
    expect(answer.clusters.map((c) => [c.cluster, c.groups.map((g) => g.group)])).toEqual([
      ['prod-eu', ['user-events-consumer']],
      ['staging', ['user-events-consumer', 'staging-only']],
    ]);
  });

  it('answers a hidden group as missing, and suggests no hidden name', async () => {
    const hidden = await answerLag(request('billing'), { ...deps([prod()]), ...notBilling });
    expect(hidden).toMatchObject({ kind: 'unknown-group', group: 'billing' });
    if (hidden.kind !== 'unknown-group') return;
    expect(hidden.suggestions.some((s) => s.startsWith('billing'))).toBe(false);
    const open = await answerLag(request('billin'), deps([prod()]));
    expect(open.kind === 'unknown-group' && open.suggestions).toContain('billing');
  });
});
