/**
 * Event-time window math, in UTC and free of dependencies, so the operators, the apply stage and
 * the reads agree on where a window starts and ends.
 */
import type { WindowName, WindowRef } from './types.js';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** The epoch (1970-01-01) is a Thursday; ISO weeks start on the Monday three days before it. */
const FIRST_MONDAY_MS = -3 * DAY_MS;

/** A window of a {@link TimeWindows} definition: `start` inclusive, `end` exclusive, epoch ms. */
export interface TimeWindow {
  start: number;
  end: number;
}

/**
 * Returns the calendar window of the given kind that contains an event time.
 *
 * Windows are UTC: `day` runs from midnight to midnight, `week` is the ISO week (Monday 00:00 to
 * the next Monday), `month` runs from the first of the month to the first of the next. `all` is
 * the single window `[0, +Infinity)`.
 *
 * ## Example
 * ```ts
 * import { windowFor } from './operators/timeWindows.js';
 *
 * windowFor('week', Date.UTC(2021, 0, 1)); // Friday 2021-01-01 is in ISO week 2020-W53
 * // { window: 'week', start: Date.UTC(2020, 11, 28), end: Date.UTC(2021, 0, 4) }
 * ```
 *
 * @see {@link isLate}
 * @see {@link TimeWindows}
 * @param name The window kind.
 * @param ts Event time, epoch milliseconds.
 * @return The window containing `ts`.
 */
export function windowFor(name: WindowName, ts: number): WindowRef {
  if (!Number.isFinite(ts)) throw new RangeError(`windowFor: ts must be a finite number, got ${ts}`);
  switch (name) {
    case 'all':
      return { window: 'all', start: 0, end: Number.POSITIVE_INFINITY };
    case 'day': {
      const start = Math.floor(ts / DAY_MS) * DAY_MS;
      return { window: 'day', start, end: start + DAY_MS };
    }
    case 'week': {
      const start = Math.floor((ts - FIRST_MONDAY_MS) / WEEK_MS) * WEEK_MS + FIRST_MONDAY_MS;
      return { window: 'week', start, end: start + WEEK_MS };
    }
    case 'month': {
      const date = new Date(ts);
      const year = date.getUTCFullYear();
      const month = date.getUTCMonth();
      // Date.UTC rolls month 12 over into January of the next year.
      return { window: 'month', start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
    }
    default:
      throw new RangeError(`windowFor: unknown window name '${String(name)}'`);
  }
}

/**
 * Tells whether a window is closed for good: the partition's stream time has reached its end plus
 * the grace period.
 *
 * Stream time, not wall-clock time, decides, so a replay of old data judges each event as the live
 * run did. The `all` window ends at `+Infinity` and so is never late.
 *
 * ## Example
 * ```ts
 * import { isLate, windowFor } from './operators/timeWindows.js';
 *
 * const day = windowFor('day', Date.UTC(2026, 0, 1, 23, 59));
 * isLate(day, Date.UTC(2026, 0, 2, 0, 4), 300_000); // false: 4 of 5 grace minutes gone
 * isLate(day, Date.UTC(2026, 0, 2, 0, 5), 300_000); // true
 * ```
 *
 * @see {@link windowFor}
 * @param ref The window; only its `end` matters.
 * @param streamTime The partition's stream time (max event time seen), epoch ms.
 * @param graceMs How long after its end the window still accepts events.
 * @return `true` when events of this window must be set aside as late.
 */
export function isLate(ref: Pick<WindowRef, 'end'>, streamTime: number, graceMs: number): boolean {
  return streamTime >= ref.end + graceMs;
}

/**
 * A definition of fixed-size windows aligned to epoch 0: tumbling by default, hopping after
 * {@link TimeWindows.advanceBy}. Named after Kafka Streams' `TimeWindows`.
 *
 * Instances are immutable; `advanceBy` returns a new definition.
 *
 * ## Example
 * ```ts
 * import { isLate, TimeWindows } from './operators/timeWindows.js';
 *
 * const fiveMinutesEveryMinute = TimeWindows.ofSizeAndGrace(300_000, 10_000).advanceBy(60_000);
 * const windows = fiveMinutesEveryMinute.windowsFor(Date.now()); // 5 overlapping windows
 * const open = windows.filter((w) => !isLate(w, Date.now(), fiveMinutesEveryMinute.graceMs));
 * ```
 *
 * @see {@link windowFor}
 * @see {@link isLate}
 */
export class TimeWindows {
  private constructor(
    readonly sizeMs: number,
    readonly advanceMs: number,
    readonly graceMs: number,
  ) {}

  /**
   * Tumbling windows of `sizeMs` with no grace period.
   * @param sizeMs Window size, a positive integer of milliseconds.
   * @return The window definition.
   */
  static ofSize(sizeMs: number): TimeWindows {
    return TimeWindows.ofSizeAndGrace(sizeMs, 0);
  }

  /**
   * Tumbling windows of `sizeMs` that accept late events for `graceMs` after their end.
   * @param sizeMs Window size, a positive integer of milliseconds.
   * @param graceMs Grace period, a non-negative integer of milliseconds.
   * @return The window definition.
   */
  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    requireInteger('sizeMs', sizeMs);
    requireInteger('graceMs', graceMs);
    if (sizeMs <= 0) throw new RangeError(`TimeWindows: sizeMs must be > 0, got ${sizeMs}`);
    if (graceMs < 0) throw new RangeError(`TimeWindows: graceMs must be >= 0, got ${graceMs}`);
    return new TimeWindows(sizeMs, sizeMs, graceMs);
  }

  /**
   * Hopping windows: a new window starts every `advanceMs`, so each event falls in
   * `ceil(sizeMs / advanceMs)` windows.
   * @param advanceMs The hop, an integer with `0 < advanceMs <= sizeMs`.
   * @return A new definition with the same size and grace.
   */
  advanceBy(advanceMs: number): TimeWindows {
    requireInteger('advanceMs', advanceMs);
    if (advanceMs <= 0 || advanceMs > this.sizeMs) {
      throw new RangeError(
        `TimeWindows: advanceMs must be > 0 and <= sizeMs (${this.sizeMs}), got ${advanceMs}`,
      );
    }
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs);
  }

  /**
   * All windows that contain an event time, oldest first.
   * @param ts Event time, epoch milliseconds.
   * @return The windows, `start` inclusive and `end` exclusive.
   */
  windowsFor(ts: number): TimeWindow[] {
    if (!Number.isFinite(ts)) throw new RangeError(`TimeWindows: ts must be a finite number, got ${ts}`);
    const windows: TimeWindow[] = [];
    const lastStart = Math.floor(ts / this.advanceMs) * this.advanceMs;
    let start = lastStart;
    while (start - this.advanceMs + this.sizeMs > ts) start -= this.advanceMs;
    for (; start <= lastStart; start += this.advanceMs) windows.push({ start, end: start + this.sizeMs });
    return windows;
  }
}

function requireInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`TimeWindows: ${name} must be an integer number of milliseconds, got ${value}`);
  }
}
