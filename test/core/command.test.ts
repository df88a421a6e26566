import { describe, expect, it } from 'vitest';
import { parseLagCommand } from '../../src/core/command.js';
import { closestNames } from '../../src/core/suggest.js';

describe('parseLagCommand', () => {
  it.each([
    ['', { kind: 'list' }],
    ['  list ', { kind: 'list' }],
    ['help', { kind: 'help' }],
    ['user-events-consumer', { kind: 'group', group: 'user-events-consumer', view: 'partitions' }],
    ['user-events-consumer members', { kind: 'group', group: 'user-events-consumer', view: 'members' }],
    ['group list', { kind: 'group', group: 'list', view: 'partitions' }],
    ['group help members', { kind: 'group', group: 'help', view: 'members' }],
    ['a&amp;b', { kind: 'group', group: 'a&b', view: 'partitions' }],
    ['&lt;!channel&gt;', { kind: 'group', group: '<!channel>', view: 'partitions' }],
    ['"my group" members', { kind: 'group', group: 'my group', view: 'members' }],
    ['“smart quotes”', { kind: 'group', group: 'smart quotes', view: 'partitions' }],
    ['orders chart', { kind: 'group', group: 'orders', view: 'chart' }],
    ['orders CHART in prod-eu', { kind: 'group', group: 'orders', view: 'chart', cluster: 'prod-eu' }],
    ['group chart', { kind: 'group', group: 'chart', view: 'partitions' }],
    ['group chart chart', { kind: 'group', group: 'chart', view: 'chart' }],
  ])('parses %j', (text, request) => {
    expect(parseLagCommand(text)).toEqual({ ok: true, request });
  });

  it('rejects an unknown view with the usage that fixes it', () => {
    const parsed = parseLagCommand('orders partitons');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain('/lag orders members');
    if (!parsed.ok) expect(parsed.error).toContain('/lag orders chart');
  });

  it('rejects too many words', () => {
    const parsed = parseLagCommand('a b c');
    expect(parsed).toEqual({ ok: false, error: expect.stringContaining('got 3 words') });
  });
});

describe('closestNames', () => {
  const names = ['user-events-consumer', 'orders-consumer', 'payments', 'user-profile-sync'];

  it('suggests near misses first', () => {
    expect(closestNames('user-event-consumer', names)[0]).toBe('user-events-consumer');
  });

  it('suggests groups containing a typed fragment', () => {
    expect(closestNames('orders', names)).toEqual(['orders-consumer']);
  });

  it('suggests nothing for an unrelated name', () => {
    expect(closestNames('zzzzzz', names)).toEqual([]);
  });
});
