/**
 * Durations and instants as people type them into Slack, read strictly: what is not clearly
 * one thing is refused rather than guessed (is `2026-12-03 02:00` local time or UTC?).
 */

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

/** `90m`, `2h`, `1h30m`, `1d`, `2d12h`: days, hours and minutes, largest first, each at most once. */
const DURATION = /^(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,5})m)?$/;

/** Milliseconds, or null when the word is not a duration in that form (`2`, `2 hours`, `1.5h`, `30s`, `0m`). */
export function parseDuration(word: string): number | null {
  const m = DURATION.exec(word.trim().toLowerCase());
  if (!m || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) return null;
  const ms = Number(m[1] ?? 0) * UNIT_MS.d + Number(m[2] ?? 0) * UNIT_MS.h + Number(m[3] ?? 0) * UNIT_MS.m;
  return ms > 0 ? ms : null;
}

/**
 * ISO 8601 with an explicit zone: `2026-12-03T02:00Z`, `2026-12-03T02:00:00Z`,
 * `2026-12-03T03:00+01:00`. A time without a zone is refused: on-call people sit in
 * several, and a maintenance window an hour off is worse than an error.
 */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch, or null when the word is not such a time or names no real one (`2026-02-30T…`). */
export function parseInstant(word: string): number | null {
  const m = INSTANT.exec(word.trim().toUpperCase());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, zone] = m as unknown as [string, string, string, string, string, string, string | undefined, string];
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 30 February over into March; a real date reads back the same.
  if (new Date(local).getUTCDate() !== day) return null;
  if (zone === 'Z') return local;
  const sign = zone.startsWith('-') ? -1 : 1;
  const [zh, zm] = zone.slice(1).split(':').map(Number) as [number, number];
  if (zh > 14 || zm > 59) return null;
  return local - sign * (zh * 60 + zm) * 60_000;
}
