import { describe, expect, it } from 'vitest';
import { statusSegments, type StatusSegment, type TimelineEntry } from '../../src/domain/timeline.ts';
import { dailyBars, rangeUptime, utcDay } from '../../src/domain/uptime.ts';
import type { State, Status } from '../../src/domain/vocabulary.ts';
import { referenceDailyBars } from '../support/reference-bars.ts';

/**
 * The 90-day bars and their uptime (src/domain/uptime.ts): a day's uptime is the share of it not
 * red, measured against the part that has passed, with red stretches from several incidents
 * counted once, and floored to two decimals.
 *
 * Days used below: 2026-03-01 (D1), 2026-03-02 (D2), 2026-03-03 (D3, "today" unless a test says
 * otherwise).
 */

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const DAY = 24 * H;

/** A time, e.g. t('03', '10:00') is 2026-03-03 10:00 UTC, in ms. */
const t = (day: string, hhmm = '00:00', ss = '00') => Date.parse(`2026-03-${day}T${hhmm}:${ss}.000Z`);
const seg = (status: Exclude<Status, 'green'>, from: number, to: number, environment = 'production'): StatusSegment => ({ environment, status, from, to });
/** The bars of production for the three days D1..D3, with now on D3. */
const bars3 = (segments: StatusSegment[], now: number) => dailyBars(segments, 'production', new Date(now), 3);
const uptimes = (segments: StatusSegment[], now: number) => bars3(segments, now).map((b) => b.uptime);

describe('daily bars: which days', () => {
  it('when asked for 90 days, there is one bar per UTC day ending today, oldest first', () => {
    const now = new Date(t('03', '10:00'));
    const bars = dailyBars([], 'production', now, 90);
    expect(bars).toHaveLength(90);
    // 2026-03-03 − 89 days = 2025-12-04
    expect(bars[0]!.date).toBe('2025-12-04');
    expect(bars.at(-1)!.date).toBe('2026-03-03');
    expect(utcDay(now.getTime())).toBe(t('03'));
  });

  it('when nothing was ever impaired (no data), every day is green at 100% with no red, yellow or blue time, and the range is 100%', () => {
    const now = t('03', '12:00');
    const bars = bars3([], now);
    expect(bars).toEqual(
      ['2026-03-01', '2026-03-02', '2026-03-03'].map((date) => ({ date, tracked: true, status: 'green', redSeconds: 0, orangeSeconds: 0, yellowSeconds: 0, blueSeconds: 0, uptime: 100 })),
    );
    expect(rangeUptime(bars, new Date(now))).toBe(100);
  });

  it('when the environment starts on day 2, day 1 is untracked and the range counts from day 2: 3 h red of 36 h = 91.66%', () => {
    const now = new Date(t('03', '12:00'));
    const bars = dailyBars([seg('red', t('01', '00:00'), t('01', '12:00')), seg('red', t('02', '00:00'), t('02', '03:00'))], 'production', now, 3, '2026-03-02');
    expect(bars.map((b) => [b.date, b.tracked])).toEqual([['2026-03-01', false], ['2026-03-02', true], ['2026-03-03', true]]);
    // day 1's 12 h red is before the start: not counted; 36 h tracked (24 + 12), 3 h red: 33/36
    expect(rangeUptime(bars, now)).toBe(91.66);
  });

  it('when a stretch belongs to another environment, or ended before the first day, it does not count', () => {
    const now = t('03', '12:00');
    const elsewhere = seg('red', t('02', '10:00'), t('02', '12:00'), 'development');
    const before = seg('red', t('02', '10:00') - 30 * DAY, t('02', '12:00') - 30 * DAY);
    const endsAtFirstMidnight = seg('red', t('01') - H, t('01'));
    expect(bars3([elsewhere, before, endsAtFirstMidnight], now).map((b) => [b.status, b.redSeconds, b.uptime])).toEqual([
      ['green', 0, 100],
      ['green', 0, 100],
      ['green', 0, 100],
    ]);
  });
});

describe('daily bars: uptime', () => {
  it('when a past day had 10 h orange (partial outage), 3 h of it count as down (30%): 21/24 = 87.5%, and orange under red counts once, as red', () => {
    const now = t('03', '12:00');
    const partial = bars3([seg('orange', t('01', '00:00'), t('01', '10:00'))], now)[0]!;
    expect(partial).toMatchObject({ status: 'orange', orangeSeconds: 10 * 3600, redSeconds: 0, uptime: 87.5 });
    // 02: orange 00:00–06:00, red 04:00–08:00 → red 4 h, orange not also red 4 h: 24 − 4 − 1.2 = 18.8 h → 78.33%
    const both = bars3([seg('orange', t('02', '00:00'), t('02', '06:00')), seg('red', t('02', '04:00'), t('02', '08:00'))], now)[1]!;
    expect(both).toMatchObject({ status: 'red', redSeconds: 4 * 3600, orangeSeconds: 4 * 3600, uptime: 78.33 });
  });

  it('when a past day had 1 hour red, its uptime is 23/24 = 95.83% (floored) and its status red', () => {
    const bars = bars3([seg('red', t('01', '10:00'), t('01', '11:00'))], t('03', '12:00'));
    expect(bars[0]).toEqual({ date: '2026-03-01', tracked: true, status: 'red', redSeconds: 3600, orangeSeconds: 0, yellowSeconds: 0, blueSeconds: 0, uptime: 95.83 });
    expect(bars.slice(1).map((b) => b.uptime)).toEqual([100, 100]);
  });

  it('when a whole day was red, its uptime is 0', () => {
    expect(uptimes([seg('red', t('01'), t('02'))], t('03', '12:00'))).toEqual([0, 100, 100]);
  });

  it('when two incidents overlap (red 10:00–12:00 and 11:00–13:00), the red time is their union, 3 hours, not 4', () => {
    const bars = bars3([seg('red', t('02', '10:00'), t('02', '12:00')), seg('red', t('02', '11:00'), t('02', '13:00'))], t('03', '12:00'));
    // 24 h − 3 h = 21 h: 21/24 = 87.5%
    expect(bars[1]).toMatchObject({ date: '2026-03-02', status: 'red', redSeconds: 3 * 3600, uptime: 87.5 });
  });

  it('when one incident\'s red lies inside another\'s, it adds nothing', () => {
    const bars = bars3([seg('red', t('02', '08:00'), t('02', '14:00')), seg('red', t('02', '09:00'), t('02', '10:00'))], t('03', '12:00'));
    // 6 h red: 18/24 = 75%
    expect(bars[1]).toMatchObject({ redSeconds: 6 * 3600, uptime: 75 });
  });

  it('when stretches touch end to start, they add up without a gap or a double count', () => {
    const bars = bars3([seg('red', t('02', '10:00'), t('02', '11:00')), seg('red', t('02', '11:00'), t('02', '12:00'))], t('03', '12:00'));
    expect(bars[1]).toMatchObject({ redSeconds: 2 * 3600, uptime: 91.66 }); // 22/24 = 91.666…%
  });

  it('when a day was only yellow or blue, its colour is the worst of them, but its uptime stays 100% (uptime counts red only)', () => {
    const bars = bars3(
      [seg('yellow', t('01', '10:00'), t('01', '16:00')), seg('blue', t('02', '02:00'), t('02', '06:00')), seg('yellow', t('02', '05:00'), t('02', '07:00'))],
      t('03', '12:00'),
    );
    expect(bars[0]).toMatchObject({ status: 'yellow', yellowSeconds: 6 * 3600, blueSeconds: 0, redSeconds: 0, uptime: 100 });
    // blue 02:00–06:00 and yellow 05:00–07:00: each colour's own union; the worst colour is yellow
    expect(bars[1]).toMatchObject({ status: 'yellow', yellowSeconds: 2 * 3600, blueSeconds: 4 * 3600, redSeconds: 0, uptime: 100 });
  });

  it('when red overlaps yellow, the day is red and only the red time lowers its uptime', () => {
    const bars = bars3([seg('yellow', t('02', '09:00'), t('02', '15:00')), seg('red', t('02', '12:00'), t('02', '18:00'))], t('03', '12:00'));
    expect(bars[1]).toMatchObject({ status: 'red', yellowSeconds: 6 * 3600, redSeconds: 6 * 3600, uptime: 75 });
  });

  it('when a red stretch runs over midnight (22:00–02:00), each day gets its own part: 2 hours each', () => {
    const bars = bars3([seg('red', t('01', '22:00'), t('02', '02:00'))], t('03', '12:00'));
    expect(bars.slice(0, 2).map((b) => [b.date, b.redSeconds, b.uptime])).toEqual([
      ['2026-03-01', 7200, 91.66],
      ['2026-03-02', 7200, 91.66],
    ]);
  });

  it('when a stretch began before the first day, only its part inside the range counts', () => {
    // red from 2026-02-27 18:00 to 2026-03-01 06:00: 6 hours of it fall on D1
    const bars = bars3([seg('red', t('01', '06:00') - 36 * H, t('01', '06:00'))], t('03', '12:00'));
    expect(bars[0]).toMatchObject({ date: '2026-03-01', redSeconds: 6 * 3600, uptime: 75 });
  });
});

describe('daily bars: today, a partial day', () => {
  it('when it is 12:00 and today had 1 hour red, its uptime is against the 12 hours passed: 11/12 = 91.66%', () => {
    const bars = bars3([seg('red', t('03', '09:00'), t('03', '10:00'))], t('03', '12:00'));
    expect(bars[2]).toEqual({ date: '2026-03-03', tracked: true, status: 'red', redSeconds: 3600, orangeSeconds: 0, yellowSeconds: 0, blueSeconds: 0, uptime: 91.66 });
  });

  it('when red is still running at now (06:00, red since 03:00), half of today so far was red: 50%', () => {
    const now = t('03', '06:00');
    expect(bars3([seg('red', t('03', '03:00'), now)], now)[2]).toMatchObject({ redSeconds: 3 * 3600, uptime: 50 });
  });

  it('when a stretch reaches past now, only the part up to now counts', () => {
    const now = t('03', '06:00');
    expect(bars3([seg('red', t('03', '03:00'), t('03', '23:00'))], now)[2]).toMatchObject({ redSeconds: 3 * 3600, uptime: 50 });
  });

  it('when it is exactly midnight, today has not begun: 100% with nothing counted', () => {
    const now = t('03');
    expect(bars3([seg('red', t('02', '23:00'), now)], now)[2]).toMatchObject({ date: '2026-03-03', status: 'green', redSeconds: 0, uptime: 100 });
  });
});

describe('daily bars: rounding', () => {
  it('when one second of a day was red, its uptime is 99.99%: floored, never rounded up to 100', () => {
    // 86 399 / 86 400 = 99.99884…%
    expect(uptimes([seg('red', t('02', '10:00'), t('02', '10:00', '01'))], t('03', '12:00'))[1]).toBe(99.99);
  });

  it('when all but one second of a day was red, its uptime is 0%: floored, not rounded up to 0.01', () => {
    // 1 / 86 400 = 0.00115…%
    expect(uptimes([seg('red', t('02'), t('02', '23:59', '59'))], t('03', '12:00'))[1]).toBe(0);
  });

  it('when red is a fraction of a second, the uptime counts it but redSeconds is whole seconds (floored)', () => {
    const bar = bars3([seg('red', t('02', '10:00'), t('02', '10:00') + 1500)], t('03', '12:00'))[1]!;
    expect(bar.redSeconds).toBe(1);
    expect(bar.uptime).toBe(99.99); // 1.5 s of 86 400 s: 99.99826…%
  });

  it('when a day had 45 minutes red, its uptime keeps two decimals: 96.87% (96.875% floored)', () => {
    expect(uptimes([seg('red', t('02', '10:00'), t('02', '10:45'))], t('03', '12:00'))[1]).toBe(96.87);
  });

  // Floored from a float, ((86 400 000 − 26 784 000) / 86 400 000) × 10 000 = 6899.999… gave
  // 68.99; 18 of the 86 401 whole-second red totals in a day came out 0.01 low like this.
  it('when exactly 31% of a day was red (7 h 26 min 24 s), its uptime is 69%, not 68.99%', () => {
    const bars = bars3([seg('red', t('02', '10:00'), t('02', '17:26', '24'))], t('03', '12:00'));
    expect(bars[1]).toMatchObject({ redSeconds: 26_784, uptime: 69 });
  });
});

describe('range uptime', () => {
  it('when 6 hours were red over 2.5 days (D1, D2 and today to 12:00), the range uptime is 54/60 = 90%', () => {
    const now = t('03', '12:00');
    const bars = bars3([seg('red', t('01', '10:00'), t('01', '13:00')), seg('red', t('03', '08:00'), t('03', '11:00'))], now);
    expect(rangeUptime(bars, new Date(now))).toBe(90);
  });

  it('when incidents overlapped, the range counts their red union once', () => {
    const now = t('03', '12:00');
    const bars = bars3([seg('red', t('02', '10:00'), t('02', '14:00')), seg('red', t('02', '12:00'), t('02', '16:00'))], now);
    // 6 h red (10:00–16:00) of 60 h = 90%
    expect(rangeUptime(bars, new Date(now))).toBe(90);
  });

  it('when it is exactly midnight, the range is the whole days before today', () => {
    const now = t('03');
    const bars = bars3([seg('red', t('01', '00:00'), t('01', '12:00'))], now);
    // 12 h red of 48 h = 75%
    expect(rangeUptime(bars, new Date(now))).toBe(75);
  });

  it('when red lasted one second in 90 days, the range is 99.99%, floored', () => {
    const now = t('03', '12:00');
    const bars = dailyBars([seg('red', t('02', '10:00'), t('02', '10:00', '01'))], 'production', new Date(now), 90);
    expect(rangeUptime(bars, new Date(now))).toBe(99.99);
  });

  it('when there are no bars, or the one bar is a day that has not begun, the range is 100%', () => {
    expect(rangeUptime([], new Date(t('03', '12:00')))).toBe(100);
    const now = t('03');
    expect(rangeUptime(dailyBars([], 'production', new Date(now), 1), new Date(now))).toBe(100);
  });
});

describe('from incident timelines to bars', () => {
  const entry = (id: number, at: number, state: State, statuses: Record<string, Status> = {}): TimelineEntry => ({ id, at: new Date(at), state, statuses, modes: {} });

  it('when two incidents are red on production at once and one is yellow after, the bars count red once and the resolution ends each', () => {
    const now = new Date(t('03', '12:00'));
    const a = statusSegments('incident', [entry(1, t('02', '10:00'), 'investigating', { production: 'red' }), entry(2, t('02', '12:00'), 'resolved')], now);
    const b = statusSegments(
      'incident',
      [
        entry(3, t('02', '11:00'), 'investigating', { production: 'red', development: 'yellow' }),
        entry(4, t('02', '13:00'), 'monitoring', { production: 'yellow' }),
        entry(5, t('02', '14:00'), 'resolved'),
      ],
      now,
    );
    const bars = dailyBars([...a, ...b], 'production', now, 3);
    // red 10:00–13:00 (union of 10–12 and 11–13) = 3 h; yellow 13:00–14:00 = 1 h; 21/24 = 87.5%
    expect(bars[1]).toEqual({ date: '2026-03-02', tracked: true, status: 'red', redSeconds: 3 * 3600, orangeSeconds: 0, yellowSeconds: 3600, blueSeconds: 0, uptime: 87.5 });
    expect(dailyBars([...a, ...b], 'development', now, 3)[1]).toMatchObject({ status: 'yellow', yellowSeconds: 3 * 3600, uptime: 100 }); // 11:00–14:00: the monitoring update keeps development's yellow
  });

  it('when an incident is still open, its red runs to now and today\'s uptime falls as time passes', () => {
    const entries = [entry(1, t('03', '09:00'), 'investigating', { production: 'red' })];
    const at10 = new Date(t('03', '10:00'));
    const at12 = new Date(t('03', '12:00'));
    expect(dailyBars(statusSegments('incident', entries, at10), 'production', at10, 1)[0]).toMatchObject({ redSeconds: 3600, uptime: 90 }); // 9/10
    expect(dailyBars(statusSegments('incident', entries, at12), 'production', at12, 1)[0]).toMatchObject({ redSeconds: 3 * 3600, uptime: 75 }); // 9/12
  });
});

describe('daily bars: one pass over the stretches, the same bars as day by day', () => {
  /** A small deterministic generator (mulberry32), so a failure names its seed. */
  const random = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const statuses = ['red', 'yellow', 'blue'] as const;

  it('when stretches of every length fall anywhere (before the range, across days and midnights, into the future), each day equals the definition', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = random(seed);
      const now = t('03', '00:00') + Math.floor(r() * 3 * DAY);
      const days = 1 + Math.floor(r() * 6);
      const segments: StatusSegment[] = Array.from({ length: Math.floor(r() * 30) }, () => {
        // whole days, midnights, minutes and odd milliseconds
        const from = now - Math.floor(r() * (days + 2) * DAY) + (r() < 0.2 ? -(now % DAY) : 0);
        const length = r() < 0.3 ? Math.floor(r() * 3) * DAY : 1 + Math.floor(r() * 2 * DAY);
        return seg(statuses[Math.floor(r() * 3)]!, from, from + length, r() < 0.8 ? 'production' : 'development');
      });
      expect(dailyBars(segments, 'production', new Date(now), days), `seed ${seed}`).toEqual(referenceDailyBars(segments, 'production', new Date(now), days));
    }
  });
});
