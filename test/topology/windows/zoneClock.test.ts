import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZoneClock } from '../../../topology/windows/zoneClock.js';
import { firstReach, offsetAt } from './wallClockOracle.js';

const HOUR = 3_600_000;
const utc = (y: number, m: number, d: number, h = 0, min = 0) => Date.UTC(y, m - 1, d, h, min);

describe('ZoneClock', () => {
  const paris = ZoneClock.for('Europe/Paris');

  it('reads the offset of a zone at an instant, changing at the instant of the change', () => {
    expect(paris.offsetAt(utc(2026, 1, 15))).toBe(HOUR);
    expect(paris.offsetAt(utc(2026, 7, 15))).toBe(2 * HOUR);
    expect(paris.offsetAt(utc(2026, 3, 29, 1) - 1)).toBe(HOUR);
    expect(paris.offsetAt(utc(2026, 3, 29, 1))).toBe(2 * HOUR);
    expect(ZoneClock.for('Asia/Kolkata').offsetAt(utc(2026, 1, 1))).toBe(5.5 * HOUR);
    expect(ZoneClock.for('America/St_Johns').offsetAt(utc(2026, 1, 1))).toBe(-3.5 * HOUR);
    expect(ZoneClock.for('UTC').offsetAt(utc(2026, 7, 15))).toBe(0);
  });

  it('agrees with formatToParts on the offset of any zone at any instant from 1970 to 2100', () => {
    const zones = Intl.supportedValuesOf('timeZone');
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: 0, max: utc(2100, 1, 1) }), (zone, t) => {
        expect(ZoneClock.for(zone).offsetAt(t)).toBe(offsetAt(zone, Math.floor(t / 1000) * 1000));
      }),
    );
  });

  it('finds the first instant the clock reaches a local time, also in a gap and in a repeated hour', () => {
    // An ordinary time, and the earlier of the two 02:30s of 25 October.
    expect(paris.firstReach(utc(2026, 1, 15, 12))).toBe(utc(2026, 1, 15, 11));
    expect(paris.firstReach(utc(2026, 10, 25, 2, 30))).toBe(utc(2026, 10, 25, 0, 30));
    // 02:00 and 02:30 of 29 March do not exist: the clock jumps past both at 01:00Z.
    expect(paris.firstReach(utc(2026, 3, 29, 2))).toBe(utc(2026, 3, 29, 1));
    expect(paris.firstReach(utc(2026, 3, 29, 2, 30))).toBe(utc(2026, 3, 29, 1));
    expect(paris.firstReach(utc(2026, 3, 29, 3))).toBe(utc(2026, 3, 29, 1));
    expect(paris.firstReach(utc(2026, 3, 29, 3, 1))).toBe(utc(2026, 3, 29, 1, 1));
    for (const local of [utc(2026, 3, 29, 2, 30), utc(2026, 10, 25, 2, 30), utc(2026, 10, 25, 3)]) {
      expect(paris.firstReach(local)).toBe(firstReach('Europe/Paris', local));
    }
  });

  it('finds the instant of an offset change to the second', () => {
    expect(paris.firstChange(utc(2026, 3, 28), utc(2026, 3, 30))).toBe(utc(2026, 3, 29, 1));
    expect(paris.firstChange(utc(2026, 10, 25, 1) - 1000, utc(2026, 10, 25, 1))).toBe(utc(2026, 10, 25, 1));
  });

  it('reads zone names in any case, and refuses unknown ones naming them', () => {
    expect(ZoneClock.for('EUROPE/PARIS')).toBe(paris);
    expect(ZoneClock.for('Etc/UTC').resolvedName).toBe('UTC');
    expect(() => ZoneClock.for('Europe/Atlantis')).toThrow(
      new RangeError("unknown time zone 'Europe/Atlantis'; use an IANA name such as Europe/Paris, or UTC"),
    );
    expect(() => ZoneClock.for(undefined as unknown as string)).toThrow(RangeError);
  });
});
