import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isClosed } from '../../../operators/windowing.js';
import { type CalendarUnit, CalendarWindows } from '../../../topology/windows/calendarWindows.js';
import { WINDOW_NAME_PATTERN } from '../../../topology/windows/windowArguments.js';

const HOUR = 3_600_000;
const utc = (y: number, m: number, d: number, h = 0, min = 0) => Date.UTC(y, m - 1, d, h, min);
const span = (start: number, end: number) => ({ start, end });
const hours = (w: { start: number; end: number }) => (w.end - w.start) / HOUR;

/** The local date and time a zone's clock shows at an instant, e.g. `2026-10-25 02:00`. */
function localTime(timeZone: string, t: number): string {
  return new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).format(t);
}

describe('CalendarWindows in Europe/Paris, around daylight saving time in 2026', () => {
  const zone = { timeZone: 'Europe/Paris' };

  it('makes 29 March, when clocks go forward, a 23-hour day, and 25 October a 25-hour day', () => {
    const day = CalendarWindows.day(zone);
    const march = day.windowAt(utc(2026, 3, 29, 12));
    expect(march).toEqual(span(utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)));
    expect(hours(march)).toBe(23);
    const october = day.windowAt(utc(2026, 10, 25, 12));
    expect(october).toEqual(span(utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)));
    expect(hours(october)).toBe(25);
    expect(day.previous(october)).toEqual(span(utc(2026, 10, 23, 22), utc(2026, 10, 24, 22)));
  });

  it('starts the weeks holding those days on Monday local midnight, 167 and 169 hours long', () => {
    const week = CalendarWindows.week(zone);
    expect(week.windowAt(utc(2026, 3, 25))).toEqual(span(utc(2026, 3, 22, 23), utc(2026, 3, 29, 22)));
    expect(hours(week.windowAt(utc(2026, 3, 29, 12)))).toBe(167);
    expect(week.windowAt(utc(2026, 10, 25, 12))).toEqual(span(utc(2026, 10, 18, 22), utc(2026, 10, 25, 23)));
    expect(hours(week.windowAt(utc(2026, 10, 20)))).toBe(169);
  });

  it('makes March 743 and October 745 hours long, from the 1st local midnight', () => {
    const month = CalendarWindows.month(zone);
    expect(month.windowAt(utc(2026, 3, 15))).toEqual(span(utc(2026, 2, 28, 23), utc(2026, 3, 31, 22)));
    expect(hours(month.windowAt(utc(2026, 3, 15)))).toBe(743);
    expect(month.windowAt(utc(2026, 10, 15))).toEqual(span(utc(2026, 9, 30, 22), utc(2026, 10, 31, 23)));
    expect(hours(month.windowAt(utc(2026, 10, 15)))).toBe(745);
  });

  it('keeps the repeated 02:00 hour of 25 October as two one-hour instances', () => {
    const hour = CalendarWindows.hour(zone);
    const first = hour.windowAt(utc(2026, 10, 25, 0, 30));
    const second = hour.windowAt(utc(2026, 10, 25, 1, 30));
    expect(first).toEqual(span(utc(2026, 10, 25, 0), utc(2026, 10, 25, 1)));
    expect(second).toEqual(span(utc(2026, 10, 25, 1), utc(2026, 10, 25, 2)));
    expect(localTime('Europe/Paris', first.start)).toBe('2026-10-25 02:00');
    expect(localTime('Europe/Paris', second.start)).toBe('2026-10-25 02:00');
    expect(hour.previous(second)).toEqual(first);
  });

  it('has no 02:00 hour on 29 March: 01:00 is followed by 03:00', () => {
    const hour = CalendarWindows.hour(zone);
    const before = hour.windowAt(utc(2026, 3, 29, 0, 30));
    const after = hour.windowAt(utc(2026, 3, 29, 1));
    expect(localTime('Europe/Paris', before.start)).toBe('2026-03-29 01:00');
    expect(localTime('Europe/Paris', after.start)).toBe('2026-03-29 03:00');
    expect(after).toEqual(span(before.end, before.end + HOUR));
  });

  it('rolls December over into January at local midnight of 1 January', () => {
    const month = CalendarWindows.month(zone);
    expect(month.windowAt(utc(2026, 12, 31, 22, 59))).toEqual(
      span(utc(2026, 11, 30, 23), utc(2026, 12, 31, 23)),
    );
    expect(month.windowAt(utc(2026, 12, 31, 23))).toEqual(span(utc(2026, 12, 31, 23), utc(2027, 1, 31, 23)));
  });
});

describe('CalendarWindows in America/New_York, around daylight saving time in 2026', () => {
  const zone = { timeZone: 'America/New_York' };

  it('makes 8 March a 23-hour day and 1 November a 25-hour day', () => {
    const day = CalendarWindows.day(zone);
    expect(day.windowAt(utc(2026, 3, 8, 12))).toEqual(span(utc(2026, 3, 8, 5), utc(2026, 3, 9, 4)));
    expect(day.windowAt(utc(2026, 11, 1, 12))).toEqual(span(utc(2026, 11, 1, 4), utc(2026, 11, 2, 5)));
  });

  it('makes the weeks holding them 167 and 169 hours long, and March and November 743 and 721', () => {
    const week = CalendarWindows.week(zone);
    expect(week.windowAt(utc(2026, 3, 8, 12))).toEqual(span(utc(2026, 3, 2, 5), utc(2026, 3, 9, 4)));
    expect(week.windowAt(utc(2026, 11, 1, 12))).toEqual(span(utc(2026, 10, 26, 4), utc(2026, 11, 2, 5)));
    const month = CalendarWindows.month(zone);
    expect(month.windowAt(utc(2026, 3, 8, 12))).toEqual(span(utc(2026, 3, 1, 5), utc(2026, 4, 1, 4)));
    expect(hours(month.windowAt(utc(2026, 3, 8, 12)))).toBe(743);
    expect(month.windowAt(utc(2026, 11, 1, 12))).toEqual(span(utc(2026, 11, 1, 4), utc(2026, 12, 1, 5)));
    expect(hours(month.windowAt(utc(2026, 11, 1, 12)))).toBe(721);
  });

  it('keeps 01:00 EDT and 01:00 EST of 1 November as two instances', () => {
    const hour = CalendarWindows.hour(zone);
    expect(hour.windowAt(utc(2026, 11, 1, 5, 59))).toEqual(span(utc(2026, 11, 1, 5), utc(2026, 11, 1, 6)));
    expect(hour.windowAt(utc(2026, 11, 1, 6))).toEqual(span(utc(2026, 11, 1, 6), utc(2026, 11, 1, 7)));
  });
});

describe('CalendarWindows in zones 30 and 45 minutes off UTC', () => {
  it('starts Asia/Kolkata (+05:30) hours at :30 UTC and its days at 18:30 UTC', () => {
    const hour = CalendarWindows.hour({ timeZone: 'Asia/Kolkata' });
    expect(hour.windowAt(utc(2026, 1, 1, 10))).toEqual(span(utc(2026, 1, 1, 9, 30), utc(2026, 1, 1, 10, 30)));
    expect(hour.windowAt(utc(2026, 1, 1, 10, 30)).start).toBe(utc(2026, 1, 1, 10, 30));
    const day = CalendarWindows.day({ timeZone: 'Asia/Kolkata' });
    expect(day.windowAt(utc(2026, 1, 1, 12))).toEqual(
      span(utc(2025, 12, 31, 18, 30), utc(2026, 1, 1, 18, 30)),
    );
  });

  it('starts Asia/Kathmandu (+05:45) hours at :15 UTC', () => {
    const hour = CalendarWindows.hour({ timeZone: 'Asia/Kathmandu' });
    expect(hour.windowAt(utc(2026, 1, 1, 10))).toEqual(span(utc(2026, 1, 1, 9, 15), utc(2026, 1, 1, 10, 15)));
  });
});

describe('CalendarWindows where midnight is skipped or repeated', () => {
  it('starts 11 September 2022 in America/Santiago at 01:00, its first instant, as midnight did not exist', () => {
    const day = CalendarWindows.day({ timeZone: 'America/Santiago' });
    const w = day.windowAt(utc(2022, 9, 11, 12));
    expect(w).toEqual(span(utc(2022, 9, 11, 4), utc(2022, 9, 12, 3)));
    expect(localTime('America/Santiago', w.start)).toBe('2022-09-11 01:00');
    expect(day.previous(w)).toEqual(span(utc(2022, 9, 10, 4), utc(2022, 9, 11, 4)));
    const hour = CalendarWindows.hour({ timeZone: 'America/Santiago' });
    expect(hour.windowAt(utc(2022, 9, 11, 4))).toEqual(span(utc(2022, 9, 11, 4), utc(2022, 9, 11, 5)));
    expect(localTime('America/Santiago', hour.previous(hour.windowAt(utc(2022, 9, 11, 4)))!.start)).toBe(
      '2022-09-10 23:00',
    );
  });

  it('makes 2 April 2022 in America/Santiago 25 hours long: 23:00 comes twice, midnight once', () => {
    const day = CalendarWindows.day({ timeZone: 'America/Santiago' });
    expect(day.windowAt(utc(2022, 4, 3, 3, 30))).toEqual(span(utc(2022, 4, 2, 3), utc(2022, 4, 3, 4)));
  });

  it('starts 13 March 2022 in America/Havana and 27 March 2022 in Asia/Beirut at 01:00', () => {
    const havana = CalendarWindows.day({ timeZone: 'America/Havana' }).windowAt(utc(2022, 3, 13, 12));
    expect(havana).toEqual(span(utc(2022, 3, 13, 5), utc(2022, 3, 14, 4)));
    expect(localTime('America/Havana', havana.start)).toBe('2022-03-13 01:00');
    const beirut = CalendarWindows.day({ timeZone: 'Asia/Beirut' }).windowAt(utc(2022, 3, 27, 12));
    expect(beirut).toEqual(span(utc(2022, 3, 26, 22), utc(2022, 3, 27, 21)));
    expect(localTime('Asia/Beirut', beirut.start)).toBe('2022-03-27 01:00');
  });

  it('keeps 6 November 2022 in America/Havana, which shows midnight twice, as one 25-hour day', () => {
    const day = CalendarWindows.day({ timeZone: 'America/Havana' });
    const w = day.windowAt(utc(2022, 11, 6, 5, 30));
    expect(w).toEqual(span(utc(2022, 11, 6, 4), utc(2022, 11, 7, 5)));
    expect(day.windowAt(utc(2022, 11, 6, 4, 30))).toEqual(w);
    // Hours do part the two midnights.
    const hour = CalendarWindows.hour({ timeZone: 'America/Havana' });
    expect(hour.windowAt(utc(2022, 11, 6, 4, 30))).toEqual(span(utc(2022, 11, 6, 4), utc(2022, 11, 6, 5)));
    expect(hour.windowAt(utc(2022, 11, 6, 5, 30))).toEqual(span(utc(2022, 11, 6, 5), utc(2022, 11, 6, 6)));
  });

  it('counts the hour America/Goose_Bay repeated after 00:01 on 1 November 2009 in that day, not the one before', () => {
    const day = CalendarWindows.day({ timeZone: 'America/Goose_Bay' });
    // 03:30Z shows 23:30 on 31 October again, after 1 November had begun at 03:00Z.
    expect(localTime('America/Goose_Bay', utc(2009, 11, 1, 3, 30))).toBe('2009-10-31 23:30');
    expect(day.windowAt(utc(2009, 11, 1, 3, 30))).toEqual(span(utc(2009, 11, 1, 3), utc(2009, 11, 2, 4)));
    expect(day.windowAt(utc(2009, 10, 31, 12))).toEqual(span(utc(2009, 10, 31, 3), utc(2009, 11, 1, 3)));
    const hour = CalendarWindows.hour({ timeZone: 'America/Goose_Bay' });
    expect(hour.windowAt(utc(2009, 11, 1, 3))).toEqual(span(utc(2009, 11, 1, 3), utc(2009, 11, 1, 3, 1)));
    expect(hour.windowAt(utc(2009, 11, 1, 3, 30))).toEqual(span(utc(2009, 11, 1, 3, 1), utc(2009, 11, 1, 4)));
  });

  it('has no instance for 30 December 2011, which Pacific/Apia skipped', () => {
    const day = CalendarWindows.day({ timeZone: 'Pacific/Apia' });
    const december29 = day.windowAt(utc(2011, 12, 29, 12));
    const next = day.windowAt(december29.end);
    expect(localTime('Pacific/Apia', december29.start)).toBe('2011-12-29 00:00');
    expect(localTime('Pacific/Apia', next.start)).toBe('2011-12-31 00:00');
    expect(next).toEqual(span(utc(2011, 12, 30, 10), utc(2011, 12, 31, 10)));
  });
});

describe('CalendarWindows in UTC', () => {
  it('puts 2021-01-01 in ISO week 2020-W53, from Monday 2020-12-28, in UTC and in Paris', () => {
    const week = CalendarWindows.week();
    expect(week.timeZone).toBe('UTC');
    for (const ts of [utc(2020, 12, 31), utc(2021, 1, 1, 12), utc(2021, 1, 3, 23, 59)]) {
      expect(week.windowAt(ts)).toEqual(span(utc(2020, 12, 28), utc(2021, 1, 4)));
    }
    const paris = CalendarWindows.week({ timeZone: 'Europe/Paris' });
    expect(paris.windowAt(utc(2021, 1, 1))).toEqual(span(utc(2020, 12, 27, 23), utc(2021, 1, 3, 23)));
  });

  it('rolls December into January, and starts days, hours and months on the UTC boundaries', () => {
    const month = CalendarWindows.month();
    expect(month.windowAt(utc(2026, 12, 31, 23, 59))).toEqual(span(utc(2026, 12, 1), utc(2027, 1, 1)));
    expect(month.windowAt(utc(2027, 1, 1))).toEqual(span(utc(2027, 1, 1), utc(2027, 2, 1)));
    expect(month.windowAt(utc(2028, 2, 29, 8))).toEqual(span(utc(2028, 2, 1), utc(2028, 3, 1)));
    expect(CalendarWindows.day().windowAt(utc(2026, 3, 29, 12))).toEqual(
      span(utc(2026, 3, 29), utc(2026, 3, 30)),
    );
    expect(CalendarWindows.hour().windowAt(utc(2026, 3, 29, 1, 59))).toEqual(
      span(utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)),
    );
  });

  it('starts the first instance that holds ts = 0 before the epoch, and has none before that', () => {
    const day = CalendarWindows.day({ timeZone: 'Europe/Paris' });
    const first = day.windowAt(0);
    expect(first).toEqual(span(-HOUR, 23 * HOUR));
    expect(day.windowStartingAt(-HOUR)).toEqual(first);
    expect(day.previous(first)).toBeUndefined();
  });
});

/**
 * The UTC calendar the boards had before time zones (the cases of the old `windowFor`), to the
 * millisecond at each boundary.
 */
describe('CalendarWindows in UTC, at the millisecond of each boundary', () => {
  const at = (y: number, m: number, d: number, h = 0, min = 0, s = 0, ms = 0) =>
    Date.UTC(y, m - 1, d, h, min, s, ms);

  it('starts a day at UTC midnight inclusive and ends it at the next midnight exclusive', () => {
    const day = CalendarWindows.day();
    expect(day.windowAt(at(2026, 3, 10))).toEqual(span(at(2026, 3, 10), at(2026, 3, 11)));
    expect(day.windowAt(at(2026, 3, 10, 23, 59, 59, 999)).start).toBe(at(2026, 3, 10));
    expect(day.windowAt(at(2026, 3, 11)).start).toBe(at(2026, 3, 11));
  });

  it('keeps 2021-01-03 23:59:59.999 in week 2020-W53 and starts the next week at Monday 2021-01-04 00:00', () => {
    const week = CalendarWindows.week();
    expect(week.windowAt(at(2021, 1, 3, 23, 59, 59, 999))).toEqual(span(at(2020, 12, 28), at(2021, 1, 4)));
    expect(week.windowAt(at(2021, 1, 4)).start).toBe(at(2021, 1, 4));
  });

  it('keeps 2026-12-28 through 2027-01-03 in one ISO week across the year boundary', () => {
    const week = CalendarWindows.week();
    for (let day = 0; day < 7; day++) {
      const ts = at(2026, 12, 28) + day * 24 * HOUR + 12 * HOUR;
      expect(week.windowAt(ts)).toEqual(span(at(2026, 12, 28), at(2027, 1, 4)));
    }
    expect(week.windowAt(at(2026, 12, 27, 23, 59, 59, 999)).start).toBe(at(2026, 12, 21));
    expect(week.windowAt(at(2027, 1, 4)).start).toBe(at(2027, 1, 4));
  });

  it('starts the week holding the epoch on Monday 1969-12-29', () => {
    expect(CalendarWindows.week().windowAt(0)).toEqual(span(at(1969, 12, 29), at(1970, 1, 5)));
  });

  it('ends a month at the first of the next one, including December into January', () => {
    const month = CalendarWindows.month();
    expect(month.windowAt(at(2026, 1, 31, 23, 59, 59, 999))).toEqual(span(at(2026, 1, 1), at(2026, 2, 1)));
    expect(month.windowAt(at(2026, 2, 1)).start).toBe(at(2026, 2, 1));
    expect(month.windowAt(at(2026, 12, 31, 12))).toEqual(span(at(2026, 12, 1), at(2027, 1, 1)));
    expect(month.windowAt(at(2026, 4, 30, 12)).end).toBe(at(2026, 5, 1));
  });

  it('counts the leap day 2028-02-29 in a 29-day February, its own day and the week of Monday 02-28', () => {
    const leapDay = at(2028, 2, 29, 8);
    const february = CalendarWindows.month().windowAt(leapDay);
    expect(february).toEqual(span(at(2028, 2, 1), at(2028, 3, 1)));
    expect(february.end - february.start).toBe(29 * 24 * HOUR);
    expect(CalendarWindows.day().windowAt(leapDay)).toEqual(span(at(2028, 2, 29), at(2028, 3, 1)));
    expect(CalendarWindows.week().windowAt(leapDay).start).toBe(at(2028, 2, 28));
  });

  it('gives every time a week from a Monday midnight, 7 days long, and a month from the 1st to the 1st (property)', () => {
    const week = CalendarWindows.week();
    const month = CalendarWindows.month();
    fc.assert(
      fc.property(fc.integer({ min: at(1970, 1, 1), max: at(2100, 1, 1) }), (ts) => {
        const w = week.windowAt(ts);
        const m = month.windowAt(ts);
        expect(w.start <= ts && ts < w.end).toBe(true);
        expect(new Date(w.start).getUTCDay()).toBe(1);
        expect(new Date(w.start).toISOString()).toMatch(/T00:00:00\.000Z$/);
        expect(w.end - w.start).toBe(7 * 24 * HOUR);
        expect(m.start <= ts && ts < m.end).toBe(true);
        expect(new Date(m.start).toISOString()).toMatch(/-01T00:00:00\.000Z$/);
        expect(new Date(m.end).toISOString()).toMatch(/-01T00:00:00\.000Z$/);
        expect(month.windowAt(m.end - 1).start).toBe(m.start);
      }),
    );
  });

  it('refuses an event time that is not a finite number', () => {
    expect(() => CalendarWindows.day().windowAt(Number.NaN)).toThrow(RangeError);
    expect(() => CalendarWindows.week().windowAt(Number.POSITIVE_INFINITY)).toThrow(
      /ts must be epoch milliseconds in \[0, 253402300800000\)/,
    );
  });
});

describe('CalendarWindows, the definition', () => {
  it('is named after its unit, with the zone shown by describe()', () => {
    for (const unit of ['hour', 'day', 'week', 'month'] as CalendarUnit[]) {
      const windows = CalendarWindows.of(unit, { timeZone: 'Europe/Paris', graceMs: 300_000 });
      expect(windows.name).toBe(unit);
      expect(windows.name).toMatch(WINDOW_NAME_PATTERN);
      expect(windows.describe()).toBe(`calendar ${unit} in Europe/Paris, grace PT5M`);
    }
    expect(CalendarWindows.day().describe()).toBe('calendar day in UTC');
  });

  it('spells a zone as Intl does when only the case differs, and keeps other aliases as given', () => {
    expect(CalendarWindows.day({ timeZone: 'europe/paris' }).timeZone).toBe('Europe/Paris');
    expect(CalendarWindows.day({ timeZone: 'Asia/Kolkata' }).timeZone).toBe('Asia/Kolkata');
    expect(CalendarWindows.day({ timeZone: 'Etc/UTC' }).timeZone).toBe('Etc/UTC');
  });

  it('refuses an unknown zone with a RangeError naming it, and a bad unit or grace period', () => {
    expect(() => CalendarWindows.day({ timeZone: 'Mars/Olympus' })).toThrow(RangeError);
    expect(() => CalendarWindows.day({ timeZone: 'Mars/Olympus' })).toThrow(
      "unknown time zone 'Mars/Olympus'",
    );
    expect(() => CalendarWindows.hour({ timeZone: 'Europe/Pariss' })).toThrow(
      "unknown time zone 'Europe/Pariss'",
    );
    expect(() => CalendarWindows.of('fortnight' as CalendarUnit)).toThrow("unknown unit 'fortnight'");
    expect(() => CalendarWindows.day({ graceMs: -1 })).toThrow('graceMs must be an integer');
  });

  it('refuses event times before 1970 or past 9999, and finds no instance at a time that starts none', () => {
    const day = CalendarWindows.day({ timeZone: 'Europe/Paris' });
    expect(() => day.windowAt(-1)).toThrow(RangeError);
    expect(() => day.windowsFor(Number.NaN)).toThrow(RangeError);
    expect(day.windowStartingAt(utc(2026, 3, 29))).toBeUndefined();
    expect(day.windowStartingAt(Number.NaN)).toBeUndefined();
    expect(day.previous({ start: utc(2026, 3, 29, 12), end: utc(2026, 3, 30) })).toBeUndefined();
  });

  it('hands out copies: changing a returned instance changes nothing it returns later', () => {
    const day = CalendarWindows.day({ timeZone: 'Europe/Paris' });
    const w = day.windowAt(utc(2026, 3, 29, 12));
    w.start = 0;
    w.end = 1;
    expect(day.windowAt(utc(2026, 3, 29, 13))).toEqual(span(utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)));
  });

  it('closes a day once stream time passes its local end plus the grace period', () => {
    const day = CalendarWindows.day({ timeZone: 'Europe/Paris', graceMs: 300_000 });
    const w = day.windowAt(utc(2026, 10, 25, 12));
    expect(isClosed(w, utc(2026, 10, 25, 23, 4), day.graceMs)).toBe(false);
    expect(isClosed(w, utc(2026, 10, 25, 23, 5), day.graceMs)).toBe(true);
  });
});
