import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLate, TimeWindows, windowFor } from '../../operators/timeWindows.js';

const DAY = 86_400_000;
const utc = (y: number, m: number, d: number, h = 0, min = 0, s = 0, ms = 0) =>
  Date.UTC(y, m - 1, d, h, min, s, ms);

describe('windowFor', () => {
  it('puts every event time in the single all window [0, +Infinity)', () => {
    expect(windowFor('all', utc(2026, 3, 10, 12))).toEqual({ window: 'all', start: 0, end: Infinity });
  });

  it('starts a day at UTC midnight inclusive and ends it at the next midnight exclusive', () => {
    expect(windowFor('day', utc(2026, 3, 10))).toEqual({
      window: 'day',
      start: utc(2026, 3, 10),
      end: utc(2026, 3, 11),
    });
    expect(windowFor('day', utc(2026, 3, 10, 23, 59, 59, 999)).start).toBe(utc(2026, 3, 10));
    expect(windowFor('day', utc(2026, 3, 11)).start).toBe(utc(2026, 3, 11));
  });

  it('puts 2020-12-31 and 2021-01-01 in ISO week 2020-W53, Monday 2020-12-28 to Monday 2021-01-04', () => {
    for (const ts of [utc(2020, 12, 31), utc(2021, 1, 1, 12), utc(2021, 1, 3, 23, 59, 59, 999)]) {
      expect(windowFor('week', ts)).toEqual({
        window: 'week',
        start: utc(2020, 12, 28),
        end: utc(2021, 1, 4),
      });
    }
    expect(windowFor('week', utc(2021, 1, 4)).start).toBe(utc(2021, 1, 4));
  });

  it('keeps 2026-12-28 through 2027-01-03 in one ISO week across the year boundary', () => {
    for (let day = 0; day < 7; day++) {
      const ts = utc(2026, 12, 28) + day * DAY + 12 * 3_600_000;
      expect(windowFor('week', ts)).toEqual({
        window: 'week',
        start: utc(2026, 12, 28),
        end: utc(2027, 1, 4),
      });
    }
    expect(windowFor('week', utc(2026, 12, 27, 23, 59, 59, 999)).start).toBe(utc(2026, 12, 21));
    expect(windowFor('week', utc(2027, 1, 4)).start).toBe(utc(2027, 1, 4));
  });

  it('starts weeks before the epoch on Monday too (1969-12-31 is in the week of 1969-12-29)', () => {
    expect(windowFor('week', utc(1969, 12, 31)).start).toBe(utc(1969, 12, 29));
    expect(windowFor('week', 0).start).toBe(utc(1969, 12, 29));
  });

  it('ends a month at the first of the next one, including December into January', () => {
    expect(windowFor('month', utc(2026, 1, 31, 23, 59, 59, 999))).toEqual({
      window: 'month',
      start: utc(2026, 1, 1),
      end: utc(2026, 2, 1),
    });
    expect(windowFor('month', utc(2026, 2, 1)).start).toBe(utc(2026, 2, 1));
    expect(windowFor('month', utc(2026, 12, 31, 12))).toEqual({
      window: 'month',
      start: utc(2026, 12, 1),
      end: utc(2027, 1, 1),
    });
    expect(windowFor('month', utc(2026, 4, 30, 12)).end).toBe(utc(2026, 5, 1));
  });

  it('counts the leap day 2028-02-29 in a 29-day February, its own day and the week of Monday 02-28', () => {
    const leapDay = utc(2028, 2, 29, 8);
    const february = windowFor('month', leapDay);
    expect(february).toEqual({ window: 'month', start: utc(2028, 2, 1), end: utc(2028, 3, 1) });
    expect(february.end - february.start).toBe(29 * DAY);
    expect(windowFor('day', leapDay)).toEqual({
      window: 'day',
      start: utc(2028, 2, 29),
      end: utc(2028, 3, 1),
    });
    expect(windowFor('week', leapDay).start).toBe(utc(2028, 2, 28));
  });

  it('returns a window that contains the event time and starts on a Monday / the 1st (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: utc(1970, 1, 1), max: utc(2100, 1, 1) }), (ts) => {
        const week = windowFor('week', ts);
        const month = windowFor('month', ts);
        expect(week.start <= ts && ts < week.end).toBe(true);
        expect(new Date(week.start).getUTCDay()).toBe(1);
        expect(new Date(week.start).toISOString()).toMatch(/T00:00:00\.000Z$/);
        expect(week.end - week.start).toBe(7 * DAY);
        expect(month.start <= ts && ts < month.end).toBe(true);
        expect(new Date(month.start).toISOString()).toMatch(/-01T00:00:00\.000Z$/);
        expect(new Date(month.end).toISOString()).toMatch(/-01T00:00:00\.000Z$/);
        expect(windowFor('month', month.end - 1).start).toBe(month.start);
      }),
    );
  });

  it('rejects an event time that is not a finite number', () => {
    expect(() => windowFor('day', Number.NaN)).toThrow(RangeError);
    expect(() => windowFor('week', Infinity)).toThrow(/finite/);
  });
});

describe('isLate', () => {
  const day = windowFor('day', utc(2026, 3, 10, 12));

  it('keeps a window open until stream time reaches its end plus grace, then closes it', () => {
    expect(isLate(day, day.end - 1, 0)).toBe(false);
    expect(isLate(day, day.end, 0)).toBe(true);
    expect(isLate(day, day.end + 59_999, 60_000)).toBe(false);
    expect(isLate(day, day.end + 60_000, 60_000)).toBe(true);
  });

  it('never closes the all window', () => {
    expect(isLate(windowFor('all', 0), Number.MAX_VALUE, 0)).toBe(false);
  });
});

describe('TimeWindows', () => {
  it('gives each event time exactly one tumbling window, aligned to epoch 0', () => {
    const windows = TimeWindows.ofSize(10);
    expect(windows.windowsFor(0)).toEqual([{ start: 0, end: 10 }]);
    expect(windows.windowsFor(9)).toEqual([{ start: 0, end: 10 }]);
    expect(windows.windowsFor(10)).toEqual([{ start: 10, end: 20 }]);
    expect(windows.windowsFor(-1)).toEqual([{ start: -10, end: 0 }]);
    expect(windows.graceMs).toBe(0);
  });

  it('gives each event time every hopping window that contains it, oldest first', () => {
    const hopping = TimeWindows.ofSizeAndGrace(10, 5).advanceBy(5);
    expect(hopping.windowsFor(12)).toEqual([
      { start: 5, end: 15 },
      { start: 10, end: 20 },
    ]);
    expect(hopping.windowsFor(10)).toEqual([
      { start: 5, end: 15 },
      { start: 10, end: 20 },
    ]);
    expect(hopping.windowsFor(9)).toEqual([
      { start: 0, end: 10 },
      { start: 5, end: 15 },
    ]);
    expect(hopping).toMatchObject({ sizeMs: 10, advanceMs: 5, graceMs: 5 });
  });

  it('returns the same hopping windows as a brute-force scan of all aligned starts (property)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 50 })
          .chain((size) =>
            fc.tuple(
              fc.constant(size),
              fc.integer({ min: 1, max: size }),
              fc.integer({ min: -200, max: 200 }),
            ),
          ),
        ([size, advance, ts]) => {
          const expected = [];
          for (let start = Math.floor(-400 / advance) * advance; start <= ts; start += advance) {
            if (start + size > ts) expected.push({ start, end: start + size });
          }
          expect(TimeWindows.ofSize(size).advanceBy(advance).windowsFor(ts)).toEqual(expected);
        },
      ),
    );
  });

  it('does not change the definition advanceBy was called on', () => {
    const tumbling = TimeWindows.ofSize(10);
    tumbling.advanceBy(2);
    expect(tumbling.windowsFor(5)).toEqual([{ start: 0, end: 10 }]);
  });

  it('rejects sizes, grace periods and advances that are not positive integers, or an advance above the size', () => {
    expect(() => TimeWindows.ofSize(0)).toThrow(/sizeMs must be > 0, got 0/);
    expect(() => TimeWindows.ofSize(-5)).toThrow(/sizeMs must be > 0/);
    expect(() => TimeWindows.ofSize(1.5)).toThrow(/sizeMs must be an integer/);
    expect(() => TimeWindows.ofSize(Number.NaN)).toThrow(/sizeMs must be an integer/);
    expect(() => TimeWindows.ofSizeAndGrace(10, -1)).toThrow(/graceMs must be >= 0/);
    expect(() => TimeWindows.ofSizeAndGrace(10, 0.5)).toThrow(/graceMs must be an integer/);
    expect(() => TimeWindows.ofSize(10).advanceBy(0)).toThrow(/advanceMs must be > 0 and <= sizeMs \(10\)/);
    expect(() => TimeWindows.ofSize(10).advanceBy(11)).toThrow(/advanceMs must be > 0 and <= sizeMs/);
    expect(() => TimeWindows.ofSize(10).advanceBy(2.5)).toThrow(/advanceMs must be an integer/);
    expect(() => TimeWindows.ofSize(10).windowsFor(Number.NaN)).toThrow(/ts must be a finite number/);
  });
});
