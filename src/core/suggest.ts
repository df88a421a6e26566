import { distance } from 'fastest-levenshtein';

/**
 * Group names closest to a mistyped one: substring matches first (people type a
 * fragment at 3 a.m.), then small edit distances.
 */
export function closestNames(wanted: string, names: readonly string[], limit = 3): string[] {
  const needle = wanted.toLowerCase();
  const maxDistance = Math.max(2, Math.floor(needle.length / 3));
  return names
    .map((name) => {
      const hay = name.toLowerCase();
      const contains = hay.includes(needle) || needle.includes(hay);
      return { name, score: contains ? 0 : distance(needle, hay) };
    })
    .filter(({ score }) => score <= maxDistance)
    .sort((a, b) => a.score - b.score || a.name.length - b.name.length || (a.name < b.name ? -1 : 1))
    .slice(0, limit)
    .map(({ name }) => name);
}
