import { describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import type { Silence } from '../../src/core/silence.js';
import { incidentRootMessage } from '../../src/views/incident-message.js';
import { silenceCreatedMessage, silenceEndingMessage, silenceListMessage, silenceProblemMessage } from '../../src/views/silence-text.js';
import { readable } from '../support/readable.js';
import { incidentFixture } from '../support/incident-fixture.js';
import { silenceFixture } from '../support/silence-fixture.js';

const T0 = Date.UTC(2026, 11, 3, 1, 0);
const H = 3_600_000;

const silence = (overrides: Partial<Silence> = {}): Silence => silenceFixture('sil-aaaa', T0, overrides);

describe('silence messages', () => {
  it('confirm a silence now and a window later, saying what, who, until when and why', () => {
    expect(readable(silenceCreatedMessage(silence(), T0))).toContain(
      ':no_bell: Silenced: `sil-aaaa`: the groups matching `payments-*` on `prod-eu`, by <@U0SRE>, until 2026-12-03 03:00:00 UTC (2 h left) (deploy).',
    );
    expect(readable(silenceCreatedMessage(silence({ target: { kind: 'cluster', cluster: 'prod-eu' }, startsAt: T0 + H, endsAt: T0 + 3 * H }), T0))).toContain(
      ':calendar: Maintenance window scheduled: `sil-aaaa`: every group on `prod-eu`, by <@U0SRE>, from 2026-12-03 02:00:00 UTC until 2026-12-03 04:00:00 UTC (in 1 h, for 2 h) (deploy).',
    );
  });

  it('never lets a reason or a pattern ping anyone or break the formatting', () => {
    const text = readable(silenceCreatedMessage(silence({ reason: '<!channel> & <@U0BOSS>', target: { kind: 'groups', pattern: 'a`<!here>*', cluster: null } }), T0));
    expect(text).toContain('(&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;)');
    expect(text).toContain('`aˋ&lt;!here&gt;*`');
    expect(text).not.toMatch(/<!channel>|<!here>|<@U0BOSS>/);
  });

  it('list each silence with a confirmable button carrying its id, within Slack limits', () => {
    const many = Array.from({ length: 30 }, (_, i) => silence({ id: `sil-${String(i).padStart(4, '0')}`, ...(i % 2 ? { startsAt: T0 + H, endsAt: T0 + 2 * H } : {}) }));
    const message = silenceListMessage(many, T0);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    const buttons = message.blocks.flatMap((b) => (b.type === 'section' && b.accessory?.type === 'button' ? [b.accessory] : []));
    expect(buttons).toHaveLength(24);
    expect(buttons[0]).toMatchObject({ action_id: ActionIds.endSilence, value: 'sil-0000', text: { text: 'End now' }, confirm: { confirm: { text: 'End now' } } });
    expect(buttons[1]).toMatchObject({ value: 'sil-0001', text: { text: 'Cancel' } });
    expect(readable(message)).toContain('and 6 more');
    expect(readable(silenceListMessage([], T0))).toContain('No silences in force or scheduled.');
  });

  it('say what ending did', () => {
    expect(readable(silenceEndingMessage({ kind: 'no-such-silence', id: 'sil-zzzz' }, T0))).toContain('There is no silence `sil-zzzz`');
    expect(readable(silenceEndingMessage({ kind: 'ended', silence: silence({ startsAt: T0 + H }) }, T0))).toContain('Cancelled the maintenance window `sil-aaaa`');
  });

  it('explain a refusal with its figures', () => {
    expect(readable(silenceProblemMessage({ kind: 'too-long', durationMs: 10 * 24 * H, maxMs: 7 * 24 * H }))).toContain('A silence lasts at most 7 d (asked: 10 d)');
    expect(readable(silenceProblemMessage({ kind: 'bad-start', word: '2026-12-03T02:00' }))).toContain('`2026-12-03T02:00` is not a start time lagbot can read unambiguously');
  });
});

describe('the root of a silenced incident', () => {
  it('says silenced by whom until when, then that it ended and who ended it', () => {
    const under = incidentFixture('inc-1', 'orders', { silence: { id: 'sil-aaaa', by: 'U0SRE', until: T0 + 2 * H, reason: 'deploy <!here>', target: { kind: 'cluster', cluster: 'default' }, endedAt: null, endedBy: null } });
    expect(readable(incidentRootMessage(under))).toContain(':no_bell: Silenced by <@U0SRE> until 03:00:00 UTC: deploy &lt;!here&gt;');
    const after = incidentFixture('inc-1', 'orders', { silence: { id: 'sil-aaaa', by: 'U0SRE', until: T0 + 2 * H, reason: null, target: { kind: 'cluster', cluster: 'default' }, endedAt: T0 + H, endedBy: 'U0LEAD' } });
    expect(readable(incidentRootMessage(after))).toContain(':bell: Silence by <@U0SRE> ended at 02:00:00 UTC by <@U0LEAD>');
    expect(readable(incidentRootMessage(incidentFixture('inc-1', 'orders')))).not.toMatch(/:no_bell:|:bell:/);
  });
});
