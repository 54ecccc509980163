import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isClosed } from '../../../operators/windowing.js';
import { GlobalWindows } from '../../../topology/windows/globalWindows.js';
import { TimeWindows } from '../../../topology/windows/timeWindows.js';
import { WINDOW_NAME_PATTERN } from '../../../topology/windows/windowArguments.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const utc = (y: number, m: number, d: number, h = 0, min = 0) => Date.UTC(y, m - 1, d, h, min);

describe('TimeWindows, tumbling', () => {
  it('names windows after the canonical duration of their size', () => {
    expect(TimeWindows.ofSize(6 * HOUR).name).toBe('PT6H');
    expect(TimeWindows.ofSize(3 * DAY).name).toBe('P3D');
    expect(TimeWindows.ofSizeAndGrace(90 * MINUTE, 5 * MINUTE).name).toBe('PT1H30M');
    expect(TimeWindows.of('PT360M').name).toBe('PT6H');
    expect(TimeWindows.of('P1W').name).toBe('P7D');
    expect(TimeWindows.ofSize(1500).name).toBe('PT1.5S');
  });

  it('takes an explicit name of letters, digits and _ . + - only', () => {
    expect(TimeWindows.of('P1D', { name: 'utc-day_v2.1+x' }).name).toBe('utc-day_v2.1+x');
    expect(TimeWindows.ofSize(DAY).withName('daily').name).toBe('daily');
    for (const bad of ['day:1', 'a/b', '', 'with space', 'é', 'x'.repeat(65)]) {
      expect(() => TimeWindows.of('P1D', { name: bad }), bad).toThrow(
        /window name .* must be 1 to 64 letters/,
      );
    }
  });

  it('aligns instances to the epoch: a P1D window runs from UTC midnight, a P7D one from Thursday', () => {
    const sixHours = TimeWindows.ofSize(6 * HOUR);
    expect(sixHours.windowsFor(utc(2026, 1, 1, 7))).toEqual([
      { start: utc(2026, 1, 1, 6), end: utc(2026, 1, 1, 12) },
    ]);
    expect(sixHours.windowAt(utc(2026, 1, 1, 12))).toEqual({
      start: utc(2026, 1, 1, 12),
      end: utc(2026, 1, 1, 18),
    });
    expect(TimeWindows.of('P1D').windowAt(utc(2026, 3, 29, 23, 59))).toEqual({
      start: utc(2026, 3, 29),
      end: utc(2026, 3, 30),
    });
    // 2026-01-01 is a Thursday, 2026-01-07 a Wednesday.
    expect(TimeWindows.of('P7D').windowAt(utc(2026, 1, 7, 12)).start).toBe(utc(2026, 1, 1));
  });

  it('finds an instance by its start, and the one before it, but none that ends at or before 0', () => {
    const sixHours = TimeWindows.ofSize(6 * HOUR);
    const w = sixHours.windowAt(utc(2026, 1, 1, 7));
    expect(sixHours.windowStartingAt(w.start)).toEqual(w);
    expect(sixHours.windowStartingAt(w.start + 1)).toBeUndefined();
    expect(sixHours.windowStartingAt(Number.NaN)).toBeUndefined();
    expect(sixHours.previous(w)).toEqual({ start: utc(2026, 1, 1), end: utc(2026, 1, 1, 6) });
    expect(sixHours.previous({ start: 0, end: 6 * HOUR })).toBeUndefined();
    expect(sixHours.windowStartingAt(-6 * HOUR)).toBeUndefined();
  });

  it('refuses sizes, grace periods and event times that are not what it counts in', () => {
    for (const size of [0, -1, 1.5, Number.NaN]) expect(() => TimeWindows.ofSize(size)).toThrow(RangeError);
    expect(() => TimeWindows.ofSizeAndGrace(HOUR, -1)).toThrow(
      'graceMs must be an integer number of milliseconds >= 0',
    );
    expect(() => TimeWindows.of('P1M')).toThrow('counts months');
    const hours = TimeWindows.ofSize(HOUR);
    for (const ts of [-1, Number.NaN, Number.POSITIVE_INFINITY, 253_402_300_800_000]) {
      expect(() => hours.windowsFor(ts)).toThrow('ts must be epoch milliseconds in [0, 253402300800000)');
    }
  });

  it('closes an instance once stream time passes its end plus the grace period', () => {
    const windows = TimeWindows.of('PT1H', { graceMs: 5 * MINUTE });
    expect(windows.graceMs).toBe(5 * MINUTE);
    const w = windows.windowAt(utc(2026, 1, 1, 10, 30));
    expect(isClosed(w, utc(2026, 1, 1, 11, 4), windows.graceMs)).toBe(false);
    expect(isClosed(w, utc(2026, 1, 1, 11, 5), windows.graceMs)).toBe(true);
  });

  it('describes itself with its size, grace and name', () => {
    expect(TimeWindows.ofSize(6 * HOUR).describe()).toBe('tumbling PT6H');
    expect(TimeWindows.of('PT6H', { graceMs: 300_000, name: 'six' }).describe()).toBe(
      "tumbling PT6H, grace PT5M named 'six'",
    );
  });

  it('tiles time: every event time is in one instance, which starts where the previous one ends', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 * DAY }),
        fc.integer({ min: 0, max: utc(2100, 1, 1) }),
        (size, ts) => {
          const windows = TimeWindows.ofSize(size);
          const [w, ...rest] = windows.windowsFor(ts);
          expect(rest).toEqual([]);
          expect(w!.start <= ts && ts < w!.end).toBe(true);
          expect(w!.start % size).toBe(0);
          expect(windows.windowAt(w!.end).start).toBe(w!.end);
          expect(windows.windowStartingAt(w!.start)).toEqual(w);
          if (w!.start > 0) expect(windows.previous(w!)?.end).toBe(w!.start);
          expect(windows.name).toMatch(WINDOW_NAME_PATTERN);
        },
      ),
    );
  });
});

describe('TimeWindows, at the millisecond of each boundary (the cases of the old UTC window math)', () => {
  it('gives each event time exactly one tumbling window, aligned to epoch 0, without grace by default', () => {
    const windows = TimeWindows.ofSize(10);
    expect(windows.windowsFor(0)).toEqual([{ start: 0, end: 10 }]);
    expect(windows.windowsFor(9)).toEqual([{ start: 0, end: 10 }]);
    expect(windows.windowsFor(10)).toEqual([{ start: 10, end: 20 }]);
    expect(windows.graceMs).toBe(0);
  });

  it('gives each event time every hopping window that contains it, oldest first, from either side of a start', () => {
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
            fc.tuple(fc.constant(size), fc.integer({ min: 1, max: size }), fc.integer({ min: 0, max: 400 })),
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

  it('refuses fractional grace periods and advances', () => {
    expect(() => TimeWindows.ofSizeAndGrace(10, 0.5)).toThrow(/graceMs must be an integer/);
    expect(() => TimeWindows.ofSize(10).advanceBy(2.5)).toThrow(RangeError);
  });

  it('keeps an instance open until stream time reaches its end plus grace, to the millisecond', () => {
    const w = TimeWindows.ofSize(DAY).windowAt(utc(2026, 3, 10, 12));
    expect(isClosed(w, w.end - 1, 0)).toBe(false);
    expect(isClosed(w, w.end, 0)).toBe(true);
    expect(isClosed(w, w.end + 59_999, 60_000)).toBe(false);
    expect(isClosed(w, w.end + 60_000, 60_000)).toBe(true);
  });
});

describe('TimeWindows, hopping', () => {
  it('puts an event in size / hop instances, oldest first, named size+hop', () => {
    const windows = TimeWindows.ofSizeAndGrace(HOUR, MINUTE).advanceBy(10 * MINUTE);
    expect(windows.name).toBe('PT1H+PT10M');
    expect(windows.graceMs).toBe(MINUTE);
    expect(windows.describe()).toBe('hopping PT1H advancing by PT10M, grace PT1M');
    const ts = utc(2026, 1, 1, 7, 5);
    expect(windows.windowsFor(ts).map((w) => (w.start - utc(2026, 1, 1, 6)) / MINUTE)).toEqual([
      10, 20, 30, 40, 50, 60,
    ]);
    expect(windows.windowAt(ts)).toEqual({ start: utc(2026, 1, 1, 7), end: utc(2026, 1, 1, 8) });
    expect(windows.previous(windows.windowAt(ts))).toEqual({
      start: utc(2026, 1, 1, 6),
      end: utc(2026, 1, 1, 7),
    });
    expect(windows.windowStartingAt(utc(2026, 1, 1, 7, 10))).toEqual({
      start: utc(2026, 1, 1, 7, 10),
      end: utc(2026, 1, 1, 8, 10),
    });
  });

  it('drops an explicit name on advanceBy, and refuses a hop longer than the size', () => {
    expect(TimeWindows.of('PT1H', { name: 'hourly' }).advanceBy(20 * MINUTE).name).toBe('PT1H+PT20M');
    expect(TimeWindows.ofSize(HOUR).advanceBy(HOUR).name).toBe('PT1H');
    expect(() => TimeWindows.ofSize(HOUR).advanceBy(HOUR + 1)).toThrow('advanceMs must be <= sizeMs');
    expect(() => TimeWindows.ofSize(HOUR).advanceBy(0)).toThrow(RangeError);
  });

  it('has no previous instance ending at a start when the hop does not divide the size', () => {
    const windows = TimeWindows.ofSize(10 * MINUTE).advanceBy(3 * MINUTE);
    expect(windows.previous(windows.windowAt(utc(2026, 1, 1)))).toBeUndefined();
  });

  it('puts each event time in floor or ceil(size / hop) instances, exactly size / hop when the hop divides it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: DAY }),
        fc.integer({ min: 1, max: 50 }),
        fc.nat(),
        fc.integer({ min: 0, max: utc(2100, 1, 1) }),
        (advance, parts, remainder, ts) => {
          const sizeMs = advance * parts + (remainder % advance);
          const windows = TimeWindows.ofSize(sizeMs).advanceBy(advance);
          const instances = windows.windowsFor(ts);
          for (const w of instances) {
            expect(w.start <= ts && ts < w.end).toBe(true);
            expect(w.end - w.start).toBe(sizeMs);
            expect(w.start % advance === 0).toBe(true);
          }
          for (let i = 1; i < instances.length; i++) {
            expect(instances[i]!.start - instances[i - 1]!.start).toBe(advance);
          }
          // The neighbours of the run do not hold ts: no instance is missing.
          expect(instances[0]!.start - advance + sizeMs).toBeLessThanOrEqual(ts);
          expect(instances.at(-1)!.start + advance).toBeGreaterThan(ts);
          expect(windows.windowAt(ts)).toEqual(instances.at(-1));
          if (sizeMs % advance === 0) expect(instances).toHaveLength(sizeMs / advance);
          else
            expect([Math.floor(sizeMs / advance), Math.ceil(sizeMs / advance)]).toContain(instances.length);
        },
      ),
    );
  });
});

describe('GlobalWindows', () => {
  it('has one instance named all, [0, +Infinity), that never closes and has nothing before it', () => {
    const all = GlobalWindows.create();
    expect(all.name).toBe('all');
    expect(all.graceMs).toBe(0);
    expect(all.windowsFor(0)).toEqual([{ start: 0, end: Number.POSITIVE_INFINITY }]);
    expect(all.windowAt(utc(2099, 12, 31))).toEqual({ start: 0, end: Number.POSITIVE_INFINITY });
    expect(isClosed(all.windowAt(utc(2026, 1, 1)), Number.MAX_VALUE, all.graceMs)).toBe(false);
    expect(all.windowStartingAt(0)).toEqual({ start: 0, end: Number.POSITIVE_INFINITY });
    expect(all.windowStartingAt(1)).toBeUndefined();
    expect(all.previous(all.windowAt(5))).toBeUndefined();
    expect(all.describe()).toBe('global window (all time)');
    expect(() => all.windowAt(-1)).toThrow(RangeError);
  });
});
