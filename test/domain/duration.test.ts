import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/domain/duration.ts';

describe('formatDuration', () => {
  it('when the duration is 0, it reads "0 seconds"', () => {
    expect(formatDuration(0)).toBe('0 seconds');
  });

  it('when the duration is under a second, it floors to "0 seconds"', () => {
    expect(formatDuration(999)).toBe('0 seconds');
  });

  it('when the duration is 1 second, it is singular', () => {
    expect(formatDuration(1000)).toBe('1 second');
  });

  it('when the duration is 2 seconds, it is plural', () => {
    expect(formatDuration(2 * 1000)).toBe('2 seconds');
  });

  it('when the duration is 45 seconds, it counts seconds', () => {
    expect(formatDuration(45 * 1000)).toBe('45 seconds');
  });

  it('when the duration is 59.9 seconds, it floors to 59 seconds rather than rounding up to a minute', () => {
    expect(formatDuration(59_900)).toBe('59 seconds');
  });

  it('when the duration is 59.999 seconds, it is still 59 seconds', () => {
    expect(formatDuration(59_999)).toBe('59 seconds');
  });

  it('when the duration is exactly 60 seconds, it reads "1 minute"', () => {
    expect(formatDuration(60 * 1000)).toBe('1 minute');
  });

  it('when the duration is 61 seconds, the seconds are dropped', () => {
    expect(formatDuration(61 * 1000)).toBe('1 minute');
  });

  it('when the duration is 2 minutes 59 seconds, it floors to "2 minutes"', () => {
    expect(formatDuration((2 * 60 + 59) * 1000)).toBe('2 minutes');
  });

  it('when the duration is exactly 1 hour, it reads "1 hour" with no minutes', () => {
    expect(formatDuration(3600 * 1000)).toBe('1 hour');
  });

  it('when the duration is 1 hour 1 minute, both are singular', () => {
    expect(formatDuration((3600 + 60) * 1000)).toBe('1 hour 1 minute');
  });

  it('when the duration is 3 h 41 m 59 s, it floors to "3 hours 41 minutes"', () => {
    expect(formatDuration((3 * 3600 + 41 * 60 + 59) * 1000)).toBe('3 hours 41 minutes');
  });

  it('when the duration is 3 h 41 m 59.999 s, it still floors to "3 hours 41 minutes"', () => {
    expect(formatDuration((3 * 3600 + 41 * 60 + 59) * 1000 + 999)).toBe('3 hours 41 minutes');
  });

  it('when the duration is 23 h 59 m 59 s, it does not round up to a day', () => {
    expect(formatDuration((23 * 3600 + 59 * 60 + 59) * 1000)).toBe('23 hours 59 minutes');
  });

  it('when the duration is exactly 1 day, it reads "1 day"', () => {
    expect(formatDuration(24 * 3600 * 1000)).toBe('1 day');
  });

  it('when the duration is 1 day 1 minute, the zero hours are left out', () => {
    expect(formatDuration((24 * 3600 + 60) * 1000)).toBe('1 day 1 minute');
  });

  it('when the duration is 1 day 2 hours, it reads "1 day 2 hours"', () => {
    expect(formatDuration((24 + 2) * 3600 * 1000)).toBe('1 day 2 hours');
  });

  it('when the duration is 2 days 1 hour 5 minutes 30 seconds, every unit is shown but the seconds', () => {
    expect(formatDuration((2 * 86400 + 3600 + 5 * 60 + 30) * 1000)).toBe('2 days 1 hour 5 minutes');
  });

  it('when the duration is 10 days, days are not converted to larger units', () => {
    expect(formatDuration(10 * 86400 * 1000)).toBe('10 days');
  });

  it('when the duration is negative, it reads "0 seconds"', () => {
    expect(formatDuration(-1)).toBe('0 seconds');
    expect(formatDuration(-5 * 60 * 1000)).toBe('0 seconds');
  });
});
