import { pino, type Logger } from 'pino';

export type { Logger };

/** One JSON logger for the process; LOG_LEVEL picks the level (default info, silent in tests). */
export function createLogger(level: string = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info')): Logger {
  return pino({ level, base: { app: 'lagbot' } });
}
