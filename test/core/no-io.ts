import { vi } from 'vitest';

/**
 * The core project's promise, enforced: its tests touch no network, file or timer. Any
 * module under test that reaches for one fails loudly instead of quietly passing slower.
 */
const refuse = (what: string) => () => {
  throw new Error(`core tests touch no ${what}: this belongs in the unit or integration project`);
};

for (const mod of ['node:fs', 'node:fs/promises', 'node:net', 'node:http', 'node:https', 'node:dgram', 'node:child_process']) {
  vi.doMock(mod, () => new Proxy({}, { get: (_, key) => (key === 'then' ? undefined : refuse(`${mod} (${String(key)})`)) }));
}

globalThis.setTimeout = refuse('timer (setTimeout)') as unknown as typeof setTimeout;
globalThis.setInterval = refuse('timer (setInterval)') as unknown as typeof setInterval;
globalThis.fetch = refuse('network (fetch)') as unknown as typeof fetch;
