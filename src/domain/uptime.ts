import type { StatusSegment } from './timeline.ts';
import { worstStatus, type Status } from './vocabulary.ts';

const DAY = 86_400_000;

export interface DayBar {
  /** The UTC day, YYYY-MM-DD. */
  readonly date: string;
  /** The worst status any event gave the environment that day. */
  readonly status: Status;
  readonly redSeconds: number;
  readonly yellowSeconds: number;
  readonly blueSeconds: number;
  /** Share of the day not red, in percent (of the part of today that has passed). */
  readonly uptime: number;
}

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
export function dailyBars(segments: readonly StatusSegment[], environment: string, now: Date, days = 90): DayBar[] {
  const nowMs = now.getTime();
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
    const span = Math.max(end - d, 1);
    return {
      date: new Date(d).toISOString().slice(0, 10),
      status: worstStatus(inDay.map((s) => s.status)),
      redSeconds: Math.floor(red / 1000),
      yellowSeconds: Math.floor(union('yellow') / 1000),
      blueSeconds: Math.floor(union('blue') / 1000),
      // whole milliseconds times 10 000, divided once: an exact share (31% red) floors to itself
      uptime: Math.floor(((span - red) * 10000) / span) / 100,
    };
  });
}

/** Uptime over the whole range, from red time (union across incidents). */
export function rangeUptime(bars: readonly DayBar[], now: Date): number {
  const total = bars.reduce((sum, b, i) => sum + (i === bars.length - 1 ? now.getTime() - utcDay(now.getTime()) : DAY), 0);
  const red = bars.reduce((sum, b) => sum + b.redSeconds * 1000, 0);
  return total <= 0 ? 100 : Math.floor(((total - red) * 10000) / total) / 100;
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
