/**
 * Weekly maintenance windows, in UTC (so no daylight-saving gaps): a day of the week, a start
 * time, and a length (4 hours unless set).
 */

export const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
export type Day = (typeof DAYS)[number];

const MIN = 60_000;
const DAY = 1440 * MIN;
const WEEK = 7 * DAY;

export interface Window {
  /** 0 = Sunday … 6 = Saturday */
  readonly day: number;
  /** Minutes after midnight UTC. */
  readonly minute: number;
  readonly durationMinutes: number;
}

export const DEFAULT_DURATION_MINUTES = 240;

/** "Sunday", "sun", "SUNDAYS" → 0; undefined when it names no day. */
export function parseDay(text: string): number | undefined {
  const t = text.trim().toLowerCase().replace(/s$/, '');
  const i = DAYS.findIndex((d) => d.toLowerCase() === t || d.slice(0, 3).toLowerCase() === t);
  return i < 0 ? undefined : i;
}

/** "14:30" → 870; undefined unless HH:MM within a day. */
export function parseTime(text: string): number | undefined {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

export function describeWindow(w: Window): string {
  const hh = String(Math.floor(w.minute / 60)).padStart(2, '0');
  const mm = String(w.minute % 60).padStart(2, '0');
  const hours = w.durationMinutes % 60 === 0 ? `${w.durationMinutes / 60} hours` : `${w.durationMinutes} minutes`;
  return `${DAYS[w.day]}s ${hh}:${mm} UTC for ${hours}`;
}

/** The start of the window's occurrence in the week holding `t` (it may be before or after t). */
function occurrenceInWeekOf(w: Window, t: number): number {
  const d = new Date(t);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return midnight - d.getUTCDay() * DAY + w.day * DAY + w.minute * MIN;
}

/** The first window occurrence starting at or after `t`. */
export function nextWindowStart(w: Window, t: Date): Date {
  let start = occurrenceInWeekOf(w, t.getTime());
  if (start < t.getTime()) start += WEEK;
  return new Date(start);
}

/**
 * The last window occurrence that starts at or after `now` and ends by `deadline`; undefined when
 * the deadline comes before the next whole window.
 */
export function lastWindowBefore(w: Window, now: Date, deadline: Date): { start: Date; end: Date } | undefined {
  const length = w.durationMinutes * MIN;
  let start = occurrenceInWeekOf(w, deadline.getTime() - length);
  if (start + length > deadline.getTime()) start -= WEEK;
  if (start < now.getTime()) return undefined;
  return { start: new Date(start), end: new Date(start + length) };
}

/** A window picked at random, for an instance that never chose one: any day, a whole hour. */
export function randomWindow(random: () => number = Math.random): Window {
  return { day: Math.floor(random() * 7), minute: Math.floor(random() * 24) * 60, durationMinutes: DEFAULT_DURATION_MINUTES };
}
