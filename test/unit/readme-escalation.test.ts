import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AlertingPolicy } from '../../src/config/alerting.js';
import { parseConfig } from '../../src/config/config.js';

/** The README's escalation example is a working configuration, and does what its text says. */
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('### Escalation policies'));
const [example, shortForm] = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
const MIN = 60_000;

describe("the README's escalation policies", () => {
  it('configure the default policy, a rule with its own, and a rule with the short form', () => {
    const config = parseConfig(example ?? '', { KAFKA_BROKERS: 'a:1' });
    const policy = new AlertingPolicy(config, config.clusters);
    const of = (group: string) => policy.forGroup({ cluster: 'default', group }).incident.escalation;
    expect(of('orders')).toEqual({
      startsAt: 'page',
      repeat: 1,
      levels: [
        { notify: ['S0123ONCALL'], waitMs: 10 * MIN },
        { notify: ['U0123LEAD', 'here'], waitMs: 15 * MIN },
      ],
    });
    expect(of('payments-eu')).toEqual({ startsAt: 'page', repeat: 0, levels: [{ notify: ['S0456PAYMT'], waitMs: 5 * MIN }] });
    expect(of('search-api')).toEqual({ startsAt: 'page', repeat: null, levels: [{ notify: ['S0789SEARCH'], waitMs: 15 * MIN }] });
  });

  it('say what oncall stands for, exactly', () => {
    const long = parseConfig(`alerting:\n${(shortForm ?? '').replace(/^/gm, '  ')}`, { KAFKA_BROKERS: 'a:1' });
    const short = parseConfig('alerting:\n  oncall: [S0123ONCALL]\n  renotifyMinutes: 15\n', { KAFKA_BROKERS: 'a:1' });
    const policyOf = (c: typeof long) => new AlertingPolicy(c, c.clusters).forGroup({ cluster: 'default', group: 'g' }).incident.escalation;
    expect(policyOf(long)).toEqual(policyOf(short));
  });
});
