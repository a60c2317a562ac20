/** Pure formatting for templates. */

export function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

const UNITS: [number, string][] = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
];

/** "5 minutes ago", "in 2 hours", "just now". */
export function relative(iso: string, nowIso: string): string {
  const diff = Date.parse(nowIso) - Date.parse(iso);
  const abs = Math.abs(diff);
  if (abs < 60_000) return 'just now';
  for (const [ms, name] of UNITS) {
    if (abs >= ms) {
      const n = Math.floor(abs / ms);
      const words = `${n} ${name}${n === 1 ? '' : 's'}`;
      return diff >= 0 ? `${words} ago` : `in ${words}`;
    }
  }
  return 'just now';
}

export const STATUS_WORDS = { green: 'Operational', yellow: 'Degraded performance', orange: 'Partial outage', red: 'Outage', blue: 'Under maintenance' } as const;
export const MODE_WORDS: Record<string, string> = { full: 'fully available', read_only: 'read-only', maintenance: 'in maintenance' };

export function stateWords(state: string): string {
  const s = state.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function monthName(yyyyMm: string): string {
  const names = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  return `${names[Number(yyyyMm.slice(5, 7)) - 1]} ${yyyyMm.slice(0, 4)}`;
}
