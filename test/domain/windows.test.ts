import { describe, expect, it } from 'vitest';
import { describeWindow, lastWindowBefore, nextWindowStart, parseDay, parseTime, randomWindow } from '../../src/domain/windows.ts';

const SUNDAY_1430 = { day: 0, minute: 14 * 60 + 30, durationMinutes: 240 };

describe('maintenance windows', () => {
  it('when days and times are parsed, names and abbreviations work and nonsense does not', () => {
    expect(parseDay('Sunday')).toBe(0);
    expect(parseDay('sat')).toBe(6);
    expect(parseDay('Wednesdays')).toBe(3);
    expect(parseDay('Funday')).toBeUndefined();
    expect(parseTime('14:30')).toBe(870);
    expect(parseTime('0:05')).toBe(5);
    expect(parseTime('24:00')).toBeUndefined();
    expect(parseTime('14:60')).toBeUndefined();
    expect(describeWindow(SUNDAY_1430)).toBe('Sundays 14:30 UTC for 4 hours');
  });

  it('when the next window is asked for mid-week, it is the coming Sunday 14:30', () => {
    // 2026-11-18 is a Wednesday
    expect(nextWindowStart(SUNDAY_1430, new Date('2026-11-18T09:00:00Z')).toISOString()).toBe('2026-11-22T14:30:00.000Z');
    // on Sunday before the window: today; after it started: next week
    expect(nextWindowStart(SUNDAY_1430, new Date('2026-11-22T14:30:00Z')).toISOString()).toBe('2026-11-22T14:30:00.000Z');
    expect(nextWindowStart(SUNDAY_1430, new Date('2026-11-22T14:31:00Z')).toISOString()).toBe('2026-11-29T14:30:00.000Z');
  });

  it('when the next window falls in the next year, it crosses the year boundary', () => {
    // 2026-12-31 is a Thursday; the next Sunday is 2027-01-03
    expect(nextWindowStart(SUNDAY_1430, new Date('2026-12-31T23:00:00Z')).toISOString()).toBe('2027-01-03T14:30:00.000Z');
    const saturdayLate = { day: 6, minute: 22 * 60, durationMinutes: 240 };
    // a window that runs over midnight into the new year
    expect(lastWindowBefore(saturdayLate, new Date('2026-12-20T00:00:00Z'), new Date('2027-01-03T02:00:00Z'))).toEqual({
      start: new Date('2027-01-02T22:00:00Z'),
      end: new Date('2027-01-03T02:00:00Z'),
    });
  });

  it('when a deadline is given, the maintenance goes into the last whole window before it', () => {
    const now = new Date('2026-11-18T09:00:00Z');
    // deadline Wednesday 2026-12-02: windows on 11-22 and 11-29; the last that ends by then is 11-29
    expect(lastWindowBefore(SUNDAY_1430, now, new Date('2026-12-02T00:00:00Z'))).toEqual({ start: new Date('2026-11-29T14:30:00Z'), end: new Date('2026-11-29T18:30:00Z') });
    // a deadline in the middle of a window: that window would not end in time, so the one before
    expect(lastWindowBefore(SUNDAY_1430, now, new Date('2026-11-29T16:00:00Z'))).toEqual({ start: new Date('2026-11-22T14:30:00Z'), end: new Date('2026-11-22T18:30:00Z') });
    // exactly at a window's end: that window
    expect(lastWindowBefore(SUNDAY_1430, now, new Date('2026-11-22T18:30:00Z'))?.start.toISOString()).toBe('2026-11-22T14:30:00.000Z');
  });

  it('when the deadline comes before the next whole window, there is no window', () => {
    expect(lastWindowBefore(SUNDAY_1430, new Date('2026-11-18T09:00:00Z'), new Date('2026-11-22T18:29:00Z'))).toBeUndefined();
    expect(lastWindowBefore(SUNDAY_1430, new Date('2026-11-22T15:00:00Z'), new Date('2026-11-23T00:00:00Z'))).toBeUndefined();
  });

  it('when no window was ever set, a random one is a whole hour of some day, 4 hours long', () => {
    expect(randomWindow(() => 0.5)).toEqual({ day: 3, minute: 12 * 60, durationMinutes: 240 });
    expect(randomWindow(() => 0.999)).toEqual({ day: 6, minute: 23 * 60, durationMinutes: 240 });
  });
});
