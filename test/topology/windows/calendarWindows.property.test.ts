import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TimeWindow } from '../../../operators/windowing.js';
import { type CalendarUnit, CalendarWindows } from '../../../topology/windows/calendarWindows.js';
import {
  calendarWindowOracle,
  changesInYear,
  HOUR,
  hourWindowOracle,
  offsetAt,
  unitFloor,
  wallClock,
} from './wallClockOracle.js';

const ZONES = [...Intl.supportedValuesOf('timeZone'), 'UTC'];
/**
 * Zones whose clocks do odd things: change at midnight (Santiago, Havana, Beirut), by half an
 * hour (Lord Howe), off the hour (Goose Bay and St Johns at 00:01 until 2011, Chatham at 2:45),
 * twice within weeks (Casablanca), or sit 30 or 45 minutes off UTC (Kolkata, Kathmandu).
 */
const ODD_ZONES = [
  'America/Santiago',
  'America/Havana',
  'Asia/Beirut',
  'Australia/Lord_Howe',
  'America/Goose_Bay',
  'America/St_Johns',
  'Pacific/Chatham',
  'Africa/Casablanca',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Europe/Paris',
  'America/New_York',
];
const FROM = Date.UTC(1990, 0, 1);
const UNTIL = Date.UTC(2100, 0, 1);
const DAY_MS = 86_400_000;

/**
 * Event times anywhere from 1990 to 2100, or close to one of the zone's offset changes (within two
 * days, or within two hours), in any zone or in one of the odd ones.
 */
const zoneAndTime = fc.oneof(
  fc.record({ zone: fc.constantFrom(...ZONES), ts: fc.integer({ min: FROM, max: UNTIL - 1 }) }),
  fc
    .record({
      zone: fc.oneof(fc.constantFrom(...ZONES), fc.constantFrom(...ODD_ZONES)),
      year: fc.integer({ min: 1990, max: 2098 }),
      which: fc.nat(9),
      delta: fc.oneof(
        fc.integer({ min: -2 * DAY_MS, max: 2 * DAY_MS }),
        fc.integer({ min: -2 * HOUR, max: 2 * HOUR }),
      ),
    })
    .map(({ zone, year, which, delta }) => {
      const changes = changesInYear(zone, year);
      const change = changes.length === 0 ? Date.UTC(year, 6, 1) : changes[which % changes.length]!;
      return { zone, ts: change + delta };
    }),
);

function definitions(zone: string): Record<CalendarUnit, CalendarWindows> {
  return {
    hour: CalendarWindows.hour({ timeZone: zone }),
    day: CalendarWindows.day({ timeZone: zone }),
    week: CalendarWindows.week({ timeZone: zone }),
    month: CalendarWindows.month({ timeZone: zone }),
  };
}

/** What every instance of every unit must satisfy, whatever the zone. */
function expectWellFormed(windows: CalendarWindows, ts: number, w: TimeWindow): void {
  expect(w.start).toBeLessThanOrEqual(ts);
  expect(w.end).toBeGreaterThan(ts);
  expect(windows.windowsFor(ts)).toEqual([w]);
  expect(windows.windowStartingAt(w.start)).toEqual(w);
  expect(windows.windowStartingAt(w.start + 1)).toBeUndefined();
  expect(windows.previous(w)?.end).toBe(w.start);
  expect(windows.previous(w)).toEqual(windows.windowAt(w.start - 1));
  // The instances tile time: the next one starts where this one ends.
  expect(windows.windowAt(w.end).start).toBe(w.end);
}

describe('CalendarWindows against a brute-force wall clock, in random zones from 1990 to 2100', () => {
  it('gives each hour instance the oracle bounds: whole local hours, split at offset changes', () => {
    fc.assert(
      fc.property(zoneAndTime, ({ zone, ts }) => {
        const hours = definitions(zone).hour;
        const w = hours.windowAt(ts);
        expect(w, `${zone} at ${new Date(ts).toISOString()}`).toEqual(hourWindowOracle(zone, ts));
        expectWellFormed(hours, ts, w);
        expect(w.end - w.start).toBeLessThanOrEqual(HOUR);
        // Its start shows a whole hour, or the zone's offset changed there.
        const wholeHour = wallClock(zone, w.start) % HOUR === 0;
        const offsetChanged = offsetAt(zone, w.start) !== offsetAt(zone, w.start - 1);
        expect(wholeHour || offsetChanged).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  for (const unit of ['day', 'week', 'month'] as const) {
    it(`gives each ${unit} instance the oracle bounds, starting where the clock first reaches its local start`, () => {
      fc.assert(
        fc.property(zoneAndTime, ({ zone, ts }) => {
          const windows = definitions(zone)[unit];
          const w = windows.windowAt(ts);
          expect(w, `${zone} at ${new Date(ts).toISOString()}`).toEqual(calendarWindowOracle(zone, unit, ts));
          expectWellFormed(windows, ts, w);
          // At its start the clock shows the unit's local start (midnight; a Monday for weeks, the
          // 1st for months) for the first time, or it has just jumped past it to later that date.
          const local = wallClock(zone, w.start);
          const boundary = unitFloor(unit, local);
          expect(wallClock(zone, w.start - 1)).toBeLessThan(boundary);
          if (local !== boundary) expect(offsetAt(zone, w.start)).not.toBe(offsetAt(zone, w.start - 1));
        }),
        { numRuns: unit === 'day' ? 150 : 60 },
      );
    });
  }
});

/** Zones and years whose offset changes are walked in full, every unit, every 15 minutes. */
const ODD_YEARS: [zone: string, year: number, why: string][] = [
  ['America/Goose_Bay', 2009, 'set back at 00:01 to 23:01 of the day before'],
  ['America/St_Johns', 2008, 'UTC-3:30, changing at 00:01'],
  ['Australia/Lord_Howe', 2026, 'changes by 30 minutes'],
  ['Pacific/Chatham', 2026, 'UTC+12:45, changing at 2:45'],
  ['America/Santiago', 2022, 'skips midnight in September'],
  ['America/Havana', 2022, 'skips midnight in March, shows it twice in November'],
  ['Asia/Beirut', 2022, 'changes at midnight'],
  ['Pacific/Apia', 2011, 'skipped 2011-12-30 entirely'],
  ['America/Caracas', 2007, 'moved from UTC-4 to UTC-4:30'],
  ['Africa/Casablanca', 2026, 'sets its clock back for Ramadan'],
  ['America/Boa_Vista', 2000, 'kept daylight saving time for one week'],
  ['Europe/Paris', 2026, 'daylight saving time'],
];

describe('CalendarWindows around odd offset changes, against the oracle', () => {
  it.each(ODD_YEARS)('%s in %i (%s)', (zone, year) => {
    const windows = definitions(zone);
    const changes = changesInYear(zone, year);
    expect(changes.length).toBeGreaterThan(0);
    for (const change of changes) {
      const times = [change - 60_000, change - 1, change + 1];
      for (let ts = change - 2 * HOUR; ts <= change + 2 * HOUR; ts += 15 * 60_000) times.push(ts);
      for (const ts of times) {
        const at = `${zone} at ${new Date(ts).toISOString()}`;
        expect(windows.hour.windowAt(ts), at).toEqual(hourWindowOracle(zone, ts));
        for (const unit of ['day', 'week', 'month'] as const) {
          expect(windows[unit].windowAt(ts), `${unit}, ${at}`).toEqual(calendarWindowOracle(zone, unit, ts));
        }
      }
    }
  });
});
