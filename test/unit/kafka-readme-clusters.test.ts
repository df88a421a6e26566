import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';

/**
 * Every `clusters:` entry in the README's "Connecting to your clusters" is a working one:
 * it passes lagbot's own configuration check, with its secrets' variables set.
 */
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Connecting to your clusters'), readme.indexOf('\n## ', readme.indexOf('## Connecting to your clusters') + 1));
const examples = [...section.matchAll(/```yaml\n(clusters:[\s\S]*?)```/g)].map((m) => m[1] as string);

describe("the README's cluster examples", () => {
  it('are there, one per provider', () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
  });

  for (const yaml of examples) {
    const names = [...yaml.matchAll(/^\s*- name: ([a-z0-9-]+)/gm)].map((m) => m[1]).join(', ');
    it(`parse: ${names}`, () => {
      const env = Object.fromEntries([...yaml.matchAll(/(?:passwordEnv|clientSecretEnv|passphraseEnv): ([A-Z0-9_]+)/g)].map((m) => [m[1] as string, 'secret']));
      const config = parseConfig(yaml, env);
      expect(config.clusters.map((c) => c.name).join(', ')).toBe(names);
      for (const cluster of config.clusters) expect(cluster.tls, `${cluster.name} uses TLS`).not.toBeNull();
    });
  }
});
