import type { StatusSegment } from '../../src/domain/timeline.ts';
import type { DayBar } from '../../src/domain/uptime.ts';
import { worstStatus, type Status } from '../../src/domain/vocabulary.ts';

const DAY = 86_400_000;

/**
 * The 90-day bars as first written: every day filters every stretch. Slow (days × stretches) but
 * plain, so it is the definition `dailyBars` is checked against.
 */
export function referenceDailyBars(segments: readonly StatusSegment[], environment: string, now: Date, days = 90, startDate: string | null = null): DayBar[] {
  const today = Math.floor(now.getTime() / DAY) * DAY;
  const first = today - (days - 1) * DAY;
  const mine = segments.filter((s) => s.environment === environment && s.to > first);
  const bars: DayBar[] = [];
  for (let d = first; d <= today; d += DAY) {
    const end = Math.min(d + DAY, now.getTime());
    const inDay = mine.filter((s) => s.from < end && s.to > d).map((s) => ({ ...s, from: Math.max(s.from, d), to: Math.min(s.to, end) }));
    const union = (status: Status) => unionLength(inDay.filter((s) => s.status === status));
    const red = union('red');
    const orange = unionLength(inDay.filter((s) => s.status === 'red' || s.status === 'orange')) - red;
    const span = Math.max(end - d, 1);
    bars.push({
      date: new Date(d).toISOString().slice(0, 10),
      tracked: startDate === null || new Date(d).toISOString().slice(0, 10) >= startDate,
      status: worstStatus(inDay.map((s) => s.status)),
      redSeconds: Math.floor(red / 1000),
      orangeSeconds: Math.floor(orange / 1000),
      yellowSeconds: Math.floor(union('yellow') / 1000),
      blueSeconds: Math.floor(union('blue') / 1000),
      uptime: Math.floor(((span - red - orange * 0.3) * 10000) / span) / 100,
    });
  }
  return bars;
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
