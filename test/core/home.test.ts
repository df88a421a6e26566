import { describe, expect, it } from 'vitest';
import { byStaleness, changesHome, homeOf, STALEST_SHOWN, type GroupStanding } from '../../src/core/home.js';
import type { Step } from '../../src/core/incident.js';
import { LIMITS } from '../../src/views/blocks.js';
import { homeView, stalenessText } from '../../src/views/home.js';
import { incidentFixture } from '../support/incident-fixture.js';
import { silenceFixture } from '../support/silence-fixture.js';

const AT = 1_700_000_600_000;
const standing = (group: string, lagSeconds: number | null | undefined, totalLag: number | null, cluster = 'default'): GroupStanding => ({
  cluster,
  group,
  totalLag,
  ...(lagSeconds !== undefined ? { lagSeconds, lagSecondsMethod: lagSeconds === null ? null : 'estimated' } : {}),
});

/** Every mrkdwn and plain text of the view, in order. */
function texts(view: { blocks: unknown[] }): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.text === 'string') out.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  walk(view.blocks);
  return out;
}

describe('the stalest groups', () => {
  it('rank by staleness, unknown staleness after every known one, then by lag', () => {
    const groups = [standing('idle', 0, 0), standing('unknown-big', null, 90_000), standing('stale', 120, 10), standing('absent', undefined, 5), standing('fresh', 3, 80_000), standing('unknown-none', null, null)];
    expect([...groups].sort(byStaleness).map((g) => g.group)).toEqual(['stale', 'fresh', 'idle', 'unknown-big', 'absent', 'unknown-none']);
  });

  it(`keep the ${STALEST_SHOWN} stalest per cluster, and the cluster's open incidents oldest first`, () => {
    const many = Array.from({ length: 25 }, (_, i) => standing(`g-${String(i).padStart(2, '0')}`, i, 100));
    const older = incidentFixture('inc-a', 'g-01', { openedAt: AT - 60_000 });
    const newer = incidentFixture('inc-b', 'g-02', { openedAt: AT - 1_000 });
    const elsewhere = incidentFixture('inc-c', 'g-03', { cluster: 'other' });
    const summary = homeOf(['default', 'other'], [newer, elsewhere, older], (c) => (c === 'default' ? many : null), AT);
    const [first, second] = summary.clusters;
    expect(first?.stalest.map((g) => g.group)).toEqual(['g-24', 'g-23', 'g-22', 'g-21', 'g-20', 'g-19', 'g-18', 'g-17', 'g-16', 'g-15']);
    expect(first?.incidents.map((i) => i.id)).toEqual(['inc-a', 'inc-b']);
    expect(first?.groups).toBe(25);
    expect(second).toMatchObject({ cluster: 'other', groups: null, stalest: [] });
    expect(second?.incidents.map((i) => i.id)).toEqual(['inc-c']);
  });
});

describe('the Home tab view', () => {
  it('shows each open incident with severity, group, lag, staleness and who acknowledged, then the stalest groups', () => {
    const acked = incidentFixture('inc-1', 'orders-consumer', {
      severity: 'critical',
      acknowledged: { by: 'U0SRE0314', at: AT - 5_000, severity: 'critical' },
      figures: { ...incidentFixture('x', 'x').figures, totalLag: 42_000, lagSeconds: 45, lagSecondsMethod: 'estimated' },
    });
    const fresh = incidentFixture('inc-2', 'billing', { openedAt: AT - 1_000 });
    const summary = homeOf(['default'], [acked, fresh], () => [standing('orders-consumer', 45, 42_000), standing('billing', null, 5_000)], AT);
    const view = homeView(summary);
    expect(view.type).toBe('home');
    const all = texts(view).join('\n');
    expect(all).toContain('*Open incidents (2)*');
    expect(all).toContain(':red_circle: CRITICAL `orders-consumer` · lag 42,000 · staleness 45s (estimated) · acknowledged by <@U0SRE0314>');
    expect(all).toContain(':warning: WARNING `billing` · lag 5,000 · staleness — · not acknowledged');
    expect(all).toMatch(/\*Most stale of 2 groups\*\n1\. `orders-consumer` · staleness 45s \(estimated\) · lag 42,000\n2\. `billing` · staleness — · lag 5,000/);
    // The single unnamed cluster is not named, as everywhere else.
    expect(all).not.toContain('Cluster default');
  });

  it('holds only the incidents and groups the viewer may read', () => {
    const incidents = [incidentFixture('inc-1', 'orders-consumer'), incidentFixture('inc-2', 'billing')];
    const summary = homeOf(['default'], incidents, () => [standing('orders-consumer', 45, 42_000), standing('billing', 3, 5_000)], AT, { visible: (ref) => ref.group !== 'billing' });
    expect(summary.clusters[0]?.incidents.map((i) => i.group)).toEqual(['orders-consumer']);
    expect(summary.clusters[0]?.stalest.map((g) => g.group)).toEqual(['orders-consumer']);
    expect(summary.clusters[0]?.groups).toBe(1);
  });

  it('escapes names from Kafka: a group named <!channel> pings no one and formats nothing', () => {
    const evil = incidentFixture('inc-1', '<!channel> *x*', {});
    const view = homeView(homeOf(['default'], [evil], () => [standing('<@U123>&`tick`', 5, 1)], AT));
    const all = texts(view).join('\n');
    expect(all).toContain('`&lt;!channel&gt; *x*`');
    expect(all).toContain('`&lt;@U123&gt;&amp;ˋtickˋ`');
    expect(all).not.toMatch(/<!channel>|<@U123>/);
  });

  it('names clusters when there are several, and says so when a cluster was not read yet', () => {
    const view = homeView(homeOf(['prod-eu', 'prod-us'], [], (c) => (c === 'prod-eu' ? [standing('a', 1, 1, 'prod-eu')] : null), AT));
    const all = texts(view);
    expect(all).toContain('Cluster prod-eu');
    expect(all).toContain('Cluster prod-us');
    expect(all.join('\n')).toContain('Groups: not read yet');
    expect(all.filter((t) => t === ':white_check_mark: *No open incidents*')).toHaveLength(2);
  });

  it('shows per cluster the silences in force and ahead, by whom and until when, not those over or on another cluster', () => {
    const H = 3_600_000;
    const silences = [
      silenceFixture('sil-later', AT, { target: { kind: 'groups', pattern: 'billing', cluster: 'prod-eu' }, startsAt: AT + H, endsAt: AT + 3 * H, reason: 'partitions added' }),
      silenceFixture('sil-now', AT - H, { target: { kind: 'groups', pattern: 'payments-*', cluster: null } }),
      silenceFixture('sil-us', AT - H, { target: { kind: 'cluster', cluster: 'prod-us' } }),
      silenceFixture('sil-over', AT - 3 * H),
    ];
    const summary = homeOf(['prod-eu', 'prod-us'], [], () => [], AT, { silences });
    expect(summary.clusters.map((c) => c.silences.map((s) => s.id))).toEqual([['sil-now', 'sil-later'], ['sil-now', 'sil-us']]);
    const eu = texts(homeView(summary)).join('\n').split('Cluster prod-us')[0] ?? '';
    expect(eu).toContain('*Silenced (2)*');
    expect(eu).toMatch(/`sil-now`: the groups matching `payments-\*`, by <@U0SRE>, until .* \(1 h left\) \(deploy\)/);
    expect(eu).toMatch(/`sil-later`: the group `billing` on `prod-eu`, by <@U0SRE>, from .* \(in 1 h, for 2 h\) \(partitions added\)/);
    expect(eu).not.toContain('sil-us');
    expect(texts(homeView(homeOf(['default'], [], () => [], AT))).join('\n')).not.toContain('Silenced');
  });

  it(`stays within ${LIMITS.blocksPerHomeView} blocks and ${LIMITS.sectionText} characters a section, counting what it leaves out`, () => {
    const longName = (i: number) => `${'x'.repeat(200)}-${i}`;
    const incidents = Array.from({ length: 3_000 }, (_, i) => incidentFixture(`inc-${i}`, longName(i), { openedAt: AT - 3_000 + i }));
    const view = homeView(homeOf(['default'], incidents, () => incidents.map((i) => standing(i.group, 1, 1)), AT));
    expect(view.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerHomeView);
    for (const t of texts(view)) expect(t.length).toBeLessThanOrEqual(LIMITS.sectionText);
    const all = texts(view).join('\n');
    const shown = (all.match(/WARNING `x{200}-\d+`/g) ?? []).length;
    expect(shown).toBeGreaterThan(100);
    expect(all).toContain(`…and ${new Intl.NumberFormat('en-US').format(3_000 - shown)} more open incidents`);
    expect(all).toContain('*Most stale of 3,000 groups*');
  });

  it('counts the clusters that no longer fit', () => {
    const clusters = Array.from({ length: 60 }, (_, i) => `c-${i}`);
    const view = homeView(homeOf(clusters, [], () => [], AT));
    expect(view.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerHomeView);
    const last = texts(view).at(-1) ?? '';
    expect(last).toMatch(/^…and \d+ more clusters: `c-\d+`/);
    const named = texts(view).filter((t) => t.startsWith('Cluster ')).length;
    expect(Number(/and (\d+) more/.exec(last)?.[1])).toBe(60 - named);
  });

  it('writes unknown staleness as a dash, known staleness with its method', () => {
    expect(stalenessText(null, null)).toBe('—');
    expect(stalenessText(undefined, undefined)).toBe('—');
    expect(stalenessText(0, 'estimated')).toBe('0s (estimated)');
    expect(stalenessText(3_900, 'exact')).toBe('1 h 5 min (exact)');
    expect(stalenessText(30, null)).toBe('30s');
  });
});

describe('which incident steps change the Home tab', () => {
  const incident = incidentFixture('inc-1', 'g');
  const stepOf = (over: Partial<Step>): Step => ({ incident, timeline: [], opened: false, rootChanged: false, notice: null, ...over });
  const at = { at: AT, mention: false };
  it('opening, severity changes, acknowledging, snoozing and resolving do; new figures alone do not', () => {
    expect(changesHome(stepOf({ opened: true }))).toBe(true);
    expect(changesHome(stepOf({ timeline: [{ ...at, kind: 'acknowledged', user: 'U1', severity: 'warning', afterMs: 1 }] }))).toBe(true);
    expect(changesHome(stepOf({ timeline: [{ ...at, kind: 'deescalated', severity: 'warning', from: 'critical', lag: 1, belowForMs: 1 }] }))).toBe(true);
    expect(changesHome(stepOf({ timeline: [{ ...at, kind: 'snoozed', user: 'U1', forMs: 1 }] }))).toBe(true);
    expect(changesHome(stepOf({ rootChanged: true }))).toBe(false);
    expect(changesHome(stepOf({ timeline: [{ ...at, kind: 'relapsed', lag: 1, line: 1 }] }))).toBe(false);
    expect(changesHome(stepOf({ incident: null, notice: { kind: 'no-such-incident' } }))).toBe(false);
  });
});
