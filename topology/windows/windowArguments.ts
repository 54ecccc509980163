/**
 * The argument checks every kind of window shares, so each refuses the same bad input (an event
 * time out of range, a negative grace period, a name a key cannot hold) with the same words.
 */

/**
 * Event times are epoch ms from 1970 up to the end of year 9999: what a `Date` and `Intl` show
 * as four-digit years, and far inside what both can compute.
 */
export const MAX_EVENT_TIME = 253_402_300_800_000;

/** Letters, digits and `_ . + -`: no `:` (it separates a name from an instance's start in keys). */
export const WINDOW_NAME_PATTERN = /^[A-Za-z0-9_.+-]{1,64}$/;

/**
 * @example
 * requireEventTime('TimeWindows', Date.now()); // passes
 * requireEventTime('TimeWindows', -1); // throws RangeError
 */
export function requireEventTime(kind: string, ts: number): void {
  if (!(ts >= 0 && ts < MAX_EVENT_TIME)) {
    throw new RangeError(
      `${kind}: ts must be epoch milliseconds in [0, ${MAX_EVENT_TIME}) (1970 to 9999), got ${ts}`,
    );
  }
}

/**
 * @example
 * requireGrace('CalendarWindows', 300_000); // passes
 */
export function requireGrace(kind: string, graceMs: number): void {
  if (!Number.isSafeInteger(graceMs) || graceMs < 0) {
    throw new RangeError(`${kind}: graceMs must be an integer number of milliseconds >= 0, got ${graceMs}`);
  }
}

/**
 * @example
 * requireWindowName('TimeWindows', 'PT6H'); // passes
 * requireWindowName('TimeWindows', 'day:1'); // throws RangeError
 */
export function requireWindowName(kind: string, name: string): void {
  if (typeof name !== 'string' || !WINDOW_NAME_PATTERN.test(name)) {
    throw new RangeError(
      `${kind}: window name '${String(name)}' must be 1 to 64 letters, digits or _ . + - (no ':' or '/')`,
    );
  }
}
