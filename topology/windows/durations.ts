/**
 * ISO-8601 durations of fixed length (weeks, days, hours, minutes, seconds), as window sizes are
 * written in board configs and window names. Years and months are refused: their length varies,
 * and a window of "one month" is the calendar window `month`, not a duration.
 *
 * The canonical form is what window names are made of, so `PT360M`, `PT6H` and `P0DT6H` name one
 * window: days are the largest unit (never weeks: `P1W` is written `P7D`, which says plainly that
 * it is seven days from the epoch, not the ISO calendar week), then hours, minutes and seconds,
 * each only when it is not zero, seconds with up to three decimals for milliseconds.
 */

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;

// Years and months are matched only to refuse them by name; the fraction is matched in full to
// refuse more than three decimals with its own message.
const DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d+))?S)?)?$/;

const EXAMPLES = 'e.g. PT6H, P3D, P1DT12H, PT90M, PT0.5S';

/**
 * Reads an ISO-8601 duration of fixed length into milliseconds.
 *
 * Accepts `PnW`, `PnD` and `PTnHnMnS` parts in that order, any subset of them (`PT6H`, `P3D`,
 * `P1DT12H`, `PT90M`, `P1W2D`), designators in upper case, seconds with up to three decimals
 * (`PT0.5S`). Refuses years and months (their length varies), signs, zero and anything longer
 * than `Number.MAX_SAFE_INTEGER` ms, each with a RangeError whose message starts with
 * `duration '<text>'` and says why.
 *
 * ## Example
 * ```ts
 * import { parseDuration } from './topology/windows/durations.js';
 *
 * parseDuration('PT6H'); // 21_600_000
 * parseDuration('P1DT12H'); // 129_600_000
 * parseDuration('P1M'); // throws RangeError: months have no fixed length
 * ```
 *
 * @see {@link formatDuration}
 * @param text The duration, e.g. `PT6H`.
 * @return Its length in milliseconds, a positive safe integer.
 */
export function parseDuration(text: string): number {
  if (typeof text !== 'string')
    throw new RangeError(`a duration is a string such as PT6H, got ${typeof text}`);
  if (text.startsWith('-') || text.startsWith('+')) {
    throw new RangeError(`duration '${text}' has a sign; durations here are positive lengths (${EXAMPLES})`);
  }
  const match = DURATION.exec(text);
  if (match === null || text === 'P' || text.endsWith('T')) {
    throw new RangeError(
      `duration '${text}' is not in ISO-8601 form (${EXAMPLES}; designators in upper case)`,
    );
  }
  const [, years, months, weeks, days, hours, minutes, seconds, fraction] = match;
  if (years !== undefined || months !== undefined) {
    const unit = years !== undefined ? 'years' : 'months';
    throw new RangeError(
      `duration '${text}' counts ${unit}, which have no fixed length; write it in days (e.g. P30D), ` +
        'or use the calendar window month',
    );
  }
  if (fraction !== undefined && fraction.length > 3) {
    throw new RangeError(`duration '${text}' is finer than a millisecond; use at most 3 decimals of seconds`);
  }
  const ms =
    count(weeks) * WEEK_MS +
    count(days) * DAY_MS +
    count(hours) * HOUR_MS +
    count(minutes) * MINUTE_MS +
    count(seconds) * SECOND_MS +
    (fraction === undefined ? 0 : Number(fraction.padEnd(3, '0')));
  if (!Number.isSafeInteger(ms))
    throw new RangeError(`duration '${text}' is too long to count in milliseconds`);
  if (ms === 0) throw new RangeError(`duration '${text}' is zero; a window needs a positive length`);
  return ms;
}

/**
 * Writes a length in milliseconds as the canonical ISO-8601 duration: days, hours, minutes and
 * seconds (with a decimal fraction for milliseconds), each only when not zero, never weeks.
 *
 * ## Example
 * ```ts
 * import { formatDuration } from './topology/windows/durations.js';
 *
 * formatDuration(21_600_000); // 'PT6H'
 * formatDuration(86_400_000); // 'P1D'
 * formatDuration(7 * 86_400_000); // 'P7D'
 * formatDuration(5_400_500); // 'PT1H30M0.5S'
 * ```
 *
 * @see {@link parseDuration}
 * @param ms A positive safe integer of milliseconds.
 * @return The canonical duration, which `parseDuration` reads back to `ms`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new RangeError(`formatDuration: ms must be a positive integer, got ${ms}`);
  }
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const hours = Math.floor(rest / HOUR_MS);
  rest -= hours * HOUR_MS;
  const minutes = Math.floor(rest / MINUTE_MS);
  rest -= minutes * MINUTE_MS;
  const seconds = Math.floor(rest / SECOND_MS);
  const millis = rest - seconds * SECOND_MS;

  let time = '';
  if (hours > 0) time += `${hours}H`;
  if (minutes > 0) time += `${minutes}M`;
  if (seconds > 0 || millis > 0) {
    const decimals = millis > 0 ? `.${String(millis).padStart(3, '0').replace(/0+$/, '')}` : '';
    time += `${seconds}${decimals}S`;
  }
  return `P${days > 0 ? `${days}D` : ''}${time === '' ? '' : `T${time}`}`;
}

/**
 * The canonical form of a duration: `formatDuration(parseDuration(text))`.
 *
 * @example
 * canonicalDuration('PT360M'); // 'PT6H'
 * canonicalDuration('PT24H'); // 'P1D'
 * canonicalDuration('P1W'); // 'P7D'
 *
 * @param text An ISO-8601 duration of fixed length.
 * @return The same length written canonically.
 */
export function canonicalDuration(text: string): string {
  return formatDuration(parseDuration(text));
}

function count(digits: string | undefined): number {
  return digits === undefined ? 0 : Number(digits);
}
