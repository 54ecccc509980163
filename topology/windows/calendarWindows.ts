/**
 * Calendar windows: local hours, days, ISO weeks and months of a time zone, bounded by the zone's
 * wall clock, so a board's "today" starts at midnight where its players live, daylight saving
 * days last 23 or 25 hours, and a month is the calendar month.
 */
import type { TimeWindow, WindowDefinition } from '../../operators/windowing.js';
import { formatDuration } from './durations.js';
import { MAX_EVENT_TIME, requireEventTime, requireGrace } from './windowArguments.js';
import { ZoneClock } from './zoneClock.js';

/** The calendar units, which are also the windows' names. */
export type CalendarUnit = 'hour' | 'day' | 'week' | 'month';

/** Every {@link CalendarUnit}. */
export const CALENDAR_UNITS: readonly CalendarUnit[] = ['hour', 'day', 'week', 'month'];

/** Options of the {@link CalendarWindows} factories. */
export interface CalendarWindowsOptions {
  /** An IANA time zone, e.g. `Europe/Paris`. Default `UTC`. */
  timeZone?: string;
  /** How long after an instance's end late events still count, ms. Default 0. */
  graceMs?: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** The instance holding ts = 0 may start up to a month before the epoch (in zones east of UTC). */
const START_MARGIN_MS = 40 * DAY_MS;

/**
 * Calendar windows in UTC or an IANA time zone, named after their unit (`hour`, `day`, `week`,
 * `month`); the zone is a property of the definition, shown by `describe()`.
 *
 * Where instances start:
 * - `day`, `week` (ISO weeks, from Monday) and `month` (from the 1st): at the first instant the
 *   zone's clock reaches local midnight of that day (of the Monday, of the 1st). Where the clock
 *   skips midnight (zones that change at 00:00, e.g. America/Santiago), that is the first instant
 *   of the local date (01:00); where it shows midnight twice (set back at 01:00, e.g.
 *   America/Havana), the first time. So daylight saving days last 23 or 25 hours, a day the zone
 *   skipped entirely (Pacific/Apia, 2011-12-30) has no instance, and an hour of yesterday the
 *   clock repeats after midnight came (America/Goose_Bay, set back at 00:01 until 2011) belongs
 *   to the new day.
 * - `hour`: at every instant the clock shows a whole hour, and at every change of the zone's
 *   offset. So a repeated hour at the fall back is two one-hour instances, a skipped hour has
 *   none, and in zones 30 or 45 minutes off UTC (Asia/Kolkata, Asia/Kathmandu) hours start at
 *   :30 or :15 past the UTC hour.
 *
 * Instances tile time: each one starts where the previous one ends. Computing one takes a few
 * `Intl` calls (about 1 µs each); the definition keeps the last instance, so consecutive event
 * times in it cost a comparison.
 *
 * ## Example
 * ```ts
 * import { CalendarWindows } from './topology/windows/index.js';
 *
 * const parisDay = CalendarWindows.day({ timeZone: 'Europe/Paris', graceMs: 300_000 });
 * parisDay.windowAt(Date.UTC(2026, 2, 29, 12)); // the 23-hour 29 March 2026:
 * // { start: Date.UTC(2026, 2, 28, 23), end: Date.UTC(2026, 2, 29, 22) }
 * parisDay.describe(); // 'calendar day in Europe/Paris, grace PT5M'
 * ```
 *
 * @see {@link TimeWindows}
 * @see {@link GlobalWindows}
 */
export class CalendarWindows implements WindowDefinition {
  /** The name of the zone: as given, or as `Intl` spells it when only the case differs. */
  readonly timeZone: string;
  readonly name: CalendarUnit;
  private readonly clock: ZoneClock;
  private last: TimeWindow = { start: 0, end: 0 };

  private constructor(
    readonly unit: CalendarUnit,
    timeZone: string,
    readonly graceMs: number,
  ) {
    this.clock = ZoneClock.for(timeZone);
    const resolved = this.clock.resolvedName;
    this.timeZone = resolved.toLowerCase() === timeZone.toLowerCase() ? resolved : timeZone;
    this.name = unit;
  }

  /**
   * Calendar windows of a unit.
   * @param unit `hour`, `day`, `week` or `month`.
   * @param options Time zone (default `UTC`) and grace period (default 0).
   * @return The definition.
   * @throws RangeError for an unknown unit or time zone (naming it) or a bad grace period.
   */
  static of(unit: CalendarUnit, options: CalendarWindowsOptions = {}): CalendarWindows {
    if (!CALENDAR_UNITS.includes(unit)) {
      throw new RangeError(`CalendarWindows: unknown unit '${String(unit)}'; use hour, day, week or month`);
    }
    const graceMs = options.graceMs ?? 0;
    requireGrace('CalendarWindows', graceMs);
    return new CalendarWindows(unit, options.timeZone ?? 'UTC', graceMs);
  }

  /** Local hours. @see {@link CalendarWindows.of} */
  static hour(options?: CalendarWindowsOptions): CalendarWindows {
    return CalendarWindows.of('hour', options);
  }

  /** Local days, from midnight. @see {@link CalendarWindows.of} */
  static day(options?: CalendarWindowsOptions): CalendarWindows {
    return CalendarWindows.of('day', options);
  }

  /** ISO weeks, from Monday midnight local time. @see {@link CalendarWindows.of} */
  static week(options?: CalendarWindowsOptions): CalendarWindows {
    return CalendarWindows.of('week', options);
  }

  /** Calendar months, from midnight of the 1st local time. @see {@link CalendarWindows.of} */
  static month(options?: CalendarWindowsOptions): CalendarWindows {
    return CalendarWindows.of('month', options);
  }

  /** The one instance that contains `ts`. */
  windowsFor(ts: number): TimeWindow[] {
    return [this.windowAt(ts)];
  }

  /** The instance that contains `ts`. */
  windowAt(ts: number): TimeWindow {
    requireEventTime('CalendarWindows', ts);
    const window = this.instanceAt(ts);
    return { start: window.start, end: window.end };
  }

  /** The instance that starts at `start`, or undefined when `start` is no instance's start. */
  windowStartingAt(start: number): TimeWindow | undefined {
    if (!(start >= -START_MARGIN_MS && start < MAX_EVENT_TIME)) return undefined;
    const window = this.instanceAt(start);
    return window.start === start ? { start, end: window.end } : undefined;
  }

  /** The instance that ends where `window` starts; undefined when it starts at or before 0. */
  previous(window: TimeWindow): TimeWindow | undefined {
    if (!(window.start > 0 && window.start <= MAX_EVENT_TIME + START_MARGIN_MS)) return undefined;
    const before = this.instanceAt(window.start - 1);
    return before.end === window.start ? { start: before.start, end: before.end } : undefined;
  }

  describe(): string {
    const grace = this.graceMs > 0 ? `, grace ${formatDuration(this.graceMs)}` : '';
    return `calendar ${this.unit} in ${this.timeZone}${grace}`;
  }

  private instanceAt(ts: number): TimeWindow {
    if (ts >= this.last.start && ts < this.last.end) return this.last;
    this.last = this.unit === 'hour' ? this.hourAt(ts) : this.calendarAt(ts);
    return this.last;
  }

  private hourAt(ts: number): TimeWindow {
    const clock = this.clock;
    const offset = clock.offsetAt(ts);
    const hour = Math.floor((ts + offset) / HOUR_MS) * HOUR_MS;
    // Where the offset was the same at the hour's local start and end, no change lies between.
    let start = hour - offset;
    if (clock.offsetAt(start) !== offset) start = clock.firstChange(start, ts);
    let end = hour + HOUR_MS - offset;
    if (clock.offsetAt(end) !== offset) end = clock.firstChange(ts, end);
    return { start, end };
  }

  private calendarAt(ts: number): TimeWindow {
    const clock = this.clock;
    let local = this.unitStart(ts + clock.offsetAt(ts));
    let next = this.nextUnitStart(local);
    if (this.unit === 'day') {
      // A day and two days on each side hold no offset change when their ends agree (the
      // zone changes at most once in five days): no need to look for one.
      const before = clock.offsetAt(local - 2 * DAY_MS);
      if (clock.offsetAt(next + 2 * DAY_MS) === before) return { start: local - before, end: next - before };
    }
    let start = clock.firstReach(local);
    let end = clock.firstReach(next);
    // After a clock set back across midnight (America/Goose_Bay until 2011, at 00:01), ts may
    // show yesterday's date after today began: it belongs to today.
    while (end <= ts) {
      start = end;
      local = next;
      next = this.nextUnitStart(local);
      end = clock.firstReach(next);
    }
    return { start, end };
  }

  /** The local start of the unit holding a local time (both as epoch ms of UTC wall time). */
  private unitStart(local: number): number {
    const days = Math.floor(local / DAY_MS);
    switch (this.unit) {
      case 'week':
        // 1970-01-01 was a Thursday, three days after a Monday.
        return (days - ((((days + 3) % 7) + 7) % 7)) * DAY_MS;
      case 'month': {
        const date = new Date(days * DAY_MS);
        return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
      }
      default:
        return days * DAY_MS;
    }
  }

  private nextUnitStart(local: number): number {
    switch (this.unit) {
      case 'week':
        return local + WEEK_MS;
      case 'month': {
        const date = new Date(local);
        // Date.UTC turns month 12 into January of the next year.
        return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
      }
      default:
        return local + DAY_MS;
    }
  }
}
