import type { StatusSegment } from './timeline.ts';
import { worstStatus, type Status } from './vocabulary.ts';

const DAY = 86_400_000;

export interface DayBar {
  /** The UTC day, YYYY-MM-DD. */
  readonly date: string;
  /** The worst status any event gave the environment that day. */
  readonly status: Status;
  readonly redSeconds: number;
  /** Orange (partial outage) time not also red. */
  readonly orangeSeconds: number;
  readonly yellowSeconds: number;
  readonly blueSeconds: number;
  /**
   * Share of the day up, in percent (of the part of today that has passed): red time counts as
   * down, orange time as PARTIAL_WEIGHT down (Statuspage's weighting of a partial outage).
   */
  readonly uptime: number;
  /** False for days before the environment's start date: shown empty, not counted in uptime. */
  readonly tracked: boolean;
}

/** How much of a partial outage (orange) counts as down time: 30%, as Statuspage counts it. */
export const PARTIAL_WEIGHT = 0.3;

/** Start of the UTC day holding `t`. */
export function utcDay(t: number): number {
  return Math.floor(t / DAY) * DAY;
}

/**
 * One bar per UTC day for `days` days ending today, for one environment. Overlapping red
 * stretches from several incidents count once: red minutes are the union of red time. A day's
 * uptime is measured against the part of it that has passed.
 *
 * Each stretch is put in the days it touches, clipped to them, so the cost is one pass over the
 * stretches plus one per day, however many days and stretches there are.
 */
export function dailyBars(segments: readonly StatusSegment[], environment: string, now: Date, days = 90, startDate: string | null = null): DayBar[] {
  const nowMs = now.getTime();
  const start = startDate === null ? -Infinity : Date.parse(`${startDate}T00:00:00Z`);
  const today = utcDay(nowMs);
  const first = today - (days - 1) * DAY;
  const inDays: { status: Exclude<Status, 'green'>; from: number; to: number }[][] = Array.from({ length: days }, () => []);
  for (const s of segments) {
    if (s.environment !== environment || s.to <= first) continue;
    // the days d with s.from < end(d) and s.to > d, where end(d) = min(d + DAY, now)
    const last = Math.min(days - 1, Math.ceil((s.to - first) / DAY) - 1);
    for (let i = Math.max(0, Math.floor((s.from - first) / DAY)); i <= last; i++) {
      const d = first + i * DAY;
      const end = Math.min(d + DAY, nowMs);
      if (s.from >= end) continue;
      inDays[i]!.push({ status: s.status, from: Math.max(s.from, d), to: Math.min(s.to, end) });
    }
  }
  return inDays.map((inDay, i) => {
    const d = first + i * DAY;
    const end = Math.min(d + DAY, nowMs);
    const union = (status: Status) => unionLength(inDay.filter((s) => s.status === status));
    const red = union('red');
    const orange = unionLength(inDay.filter((s) => s.status === 'red' || s.status === 'orange')) - red;
    const span = Math.max(end - d, 1);
    return {
      date: new Date(d).toISOString().slice(0, 10),
      tracked: d >= start,
      status: worstStatus(inDay.map((s) => s.status)),
      redSeconds: Math.floor(red / 1000),
      orangeSeconds: Math.floor(orange / 1000),
      yellowSeconds: Math.floor(union('yellow') / 1000),
      blueSeconds: Math.floor(union('blue') / 1000),
      // whole milliseconds times 10 000, divided once: an exact share (31% red) floors to itself
      uptime: Math.floor(((span - red - orange * PARTIAL_WEIGHT) * 10000) / span) / 100,
    };
  });
}

/** Uptime over the whole range, from red time (union across incidents). */
export function rangeUptime(bars: readonly DayBar[], now: Date): number {
  const total = bars.reduce((sum, b, i) => sum + (!b.tracked ? 0 : i === bars.length - 1 ? now.getTime() - utcDay(now.getTime()) : DAY), 0);
  const down = bars.reduce((sum, b) => sum + (b.tracked ? (b.redSeconds + b.orangeSeconds * PARTIAL_WEIGHT) * 1000 : 0), 0);
  return total <= 0 ? 100 : Math.floor(((total - down) * 10000) / total) / 100;
}

function unionLength(spans: readonly { from: number; to: number }[]): number {
  const sorted = [...spans].sort((a, b) => a.from - b.from);
  let total = 0;
  let curFrom = -Infinity;
  let curTo = -Infinity;
  for (const s of sorted) {
    if (s.from > curTo) {
      if (curTo > curFrom) total += curTo - curFrom;
      curFrom = s.from;
      curTo = s.to;
    } else if (s.to > curTo) {
      curTo = s.to;
    }
  }
  if (curTo > curFrom) total += curTo - curFrom;
  return total;
}
