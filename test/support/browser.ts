import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: a test tool's own browser download cannot work on these machines. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
export const CHROMIUM_MISSING = !existsSync(CHROMIUM);

export function chromiumMissingMessage(what: string): string {
  return (
    `Chromium is missing at ${CHROMIUM}, so ${what} cannot run. ` +
    'Install it with "apt-get install chromium" (Debian/Ubuntu), or point CHROMIUM_PATH at a Chromium binary.'
  );
}

/**
 * Outside CI a missing Chromium skips the browser tests, saying so; in CI it is a broken
 * machine and the tests fail. Returns whether to skip.
 */
export function skipWithoutChromium(what: string): boolean {
  if (CHROMIUM_MISSING && !IN_CI) console.warn(`SKIPPED: ${chromiumMissingMessage(what)}`);
  return CHROMIUM_MISSING && !IN_CI;
}

export async function launchChromium(what: string): Promise<Browser> {
  if (CHROMIUM_MISSING) throw new Error(chromiumMissingMessage(what));
  return chromium.launch({
    executablePath: CHROMIUM,
    // Without the background-networking flags Chromium keeps calling home, refused here.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-crash-reporter'],
  });
}
