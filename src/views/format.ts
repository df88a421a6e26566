import type { LagSecondsMethod } from '../core/protocol.js';

/** Number and time formatting shared by the Slack and terminal views. */

const counts = new Intl.NumberFormat('en-US');

/**
 * `counts.format` of a number. A whole number is grouped by hand, as en-US groups it: a
 * partition table of a large group formats thousands of them per /lag, and Intl's format was
 * a tenth of that answer's time. Intl formats the rest (fractions, -0, beyond 2^53).
 */
function formatNumber(value: number): string {
  if (!Number.isSafeInteger(value) || Object.is(value, -0)) return counts.format(value);
  const digits = String(value < 0 ? -value : value);
  let out = digits.length > 3 ? digits.slice(0, ((digits.length - 1) % 3) + 1) : digits;
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return value < 0 ? `-${out}` : out;
}

/** `4,442,768`, or `-` for unknown, as kafka-consumer-groups prints unknown values. */
export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : formatNumber(value);
}

export function formatPercent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** `2026-11-27 03:14:05 UTC`: on-call people compare times across tools, so always UTC. */
export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

/** `45s`, `5 min`, `1 h 12 min`, `2 d 3 h`: durations as an on-call person says them. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/**
 * `45s`, `12 min`, `~3 h` (extrapolated), `-` unknown: how stale a group is, with the
 * method's doubt in the figure itself so it is never read as more precise than it is.
 */
export function formatStaleness(seconds: number | null | undefined, method?: LagSecondsMethod | null): string {
  if (seconds === null || seconds === undefined) return '-';
  const text = seconds < 10 && seconds > 0 && method === 'exact' ? `${seconds.toFixed(1)}s` : formatDuration(seconds * 1000);
  return method === 'extrapolated' ? `~${text}` : text;
}

/** Which method found a staleness, as a label beside it. */
export function stalenessMethodText(method: LagSecondsMethod | null | undefined): string {
  return method === 'exact' ? 'exact: the record at the committed offset' : method === 'extrapolated' ? 'extrapolated beyond the history' : method === 'estimated' ? 'estimated from the log end history' : 'unknown';
}

/** `+1,234/s`, `-80/s`: a rate with its sign, for trends. */
export function formatRate(perSecond: number | null): string {
  if (perSecond === null) return 'unknown';
  const rounded = Math.round(perSecond);
  return `${rounded > 0 ? '+' : ''}${formatNumber(rounded)}/s`;
}

/** `03:14:05 UTC`: the timeline's time stamps. */
export function formatClock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}

/** `14,200`, `0.4`, `-` for unknown: a rate without sign, for columns (a slow partition's fraction of a message matters). */
export function formatPerSecValue(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return '-';
  return Math.abs(perSecond) < 10 && !Number.isInteger(perSecond) ? perSecond.toFixed(1) : formatNumber(Math.round(perSecond));
}

/** `14,200/s`: a rate in a sentence. */
export function formatPerSec(perSecond: number | null | undefined): string {
  return `${formatPerSecValue(perSecond)}/s`;
}

/** `3.1x`: how many times a baseline. */
export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(1)}x`;
}

const zonedFormats = new Map<string, Intl.DateTimeFormat>();

/** A time in an IANA time zone as `{ date: '2026-11-27', time: '03:14:05' }`: postmortems are read in the team's own zone. */
export function formatZoned(ms: number, timeZone: string): { date: string; time: string } {
  let format = zonedFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    zonedFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(ms);
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return { date: `${get('year')}-${get('month')}-${get('day')}`, time: `${get('hour')}:${get('minute')}:${get('second')}` };
}
