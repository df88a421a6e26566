import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The lint rule that keeps src/ the product alone, run through the project's own eslint config. */
describe('the product boundary', () => {
  const eslint = new ESLint();
  const rulesHit = async (filePath: string, code: string) =>
    (await eslint.lintText(code, { filePath }))[0]?.messages.map((m) => m.ruleId) ?? [];

  it('refuses an import of tools/ or test/ from src/', async () => {
    expect(await rulesHit('src/core/probe.ts', "import { startKafka } from '../../tools/kafka-testbed/broker.js';\nexport const x = startKafka;\n")).toContain(
      'no-restricted-imports',
    );
    expect(await rulesHit('src/views/probe.ts', "import { readable } from '../../test/support/readable.js';\nexport const x = readable;\n")).toContain(
      'no-restricted-imports',
    );
  }, 30_000);

  it('lets tools/ and test/ import the product', async () => {
    expect(await rulesHit('tools/demo/probe.ts', "import { systemClock } from '../../src/core/ports.js';\nexport const x = systemClock;\n")).not.toContain(
      'no-restricted-imports',
    );
  }, 30_000);
});
