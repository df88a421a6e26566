import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';

describe('lagbot.example.yaml', () => {
  it('is a valid configuration as shipped', () => {
    const text = readFileSync(new URL('../../lagbot.example.yaml', import.meta.url), 'utf8');
    const config = parseConfig(text, {}, 'lagbot.example.yaml');
    expect(config.clusters[0]!.brokers).toEqual(['kafka-1.internal:9092', 'kafka-2.internal:9092']);
    expect(config.slack.mode).toBe('http');
    expect(config.alerting.channel).toBe('C0123ABCD');
    expect(config.groups[0]?.thresholds?.page?.lag).toBe(200_000);
    expect(config.access).toMatchObject({ membershipCacheSeconds: 60, acknowledge: ['channel-members'], query: ['everyone'] });
    expect(config.groups[0]?.access?.resolve).toEqual(['S0456PAYMT']);
  });
});
