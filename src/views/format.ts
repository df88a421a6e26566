/** Number and time formatting shared by the Slack and terminal views. */

const counts = new Intl.NumberFormat('en-US');

/** `4,442,768`, or `-` for unknown, as kafka-consumer-groups prints unknown values. */
export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : counts.format(value);
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

/** `+1,234/s`, `-80/s`: a rate with its sign, for trends. */
export function formatRate(perSecond: number | null): string {
  if (perSecond === null) return 'unknown';
  const rounded = Math.round(perSecond);
  return `${rounded > 0 ? '+' : ''}${counts.format(rounded)}/s`;
}

/** `03:14:05 UTC`: the timeline's time stamps. */
export function formatClock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)} UTC`;
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
