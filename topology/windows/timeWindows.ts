/**
 * Fixed-size windows aligned to the epoch, tumbling or hopping, with Kafka Streams' names. They
 * are pure arithmetic on epoch ms, so they know no time zone: a `P1D` window runs from UTC
 * midnight to UTC midnight and a `P7D` window starts on a Thursday (1970-01-01 was one).
 */
import type { TimeWindow, WindowDefinition } from '../../operators/windowing.js';
import { formatDuration, parseDuration } from './durations.js';
import { requireEventTime, requireGrace, requireWindowName } from './windowArguments.js';

/** Options of {@link TimeWindows.of}. */
export interface TimeWindowsOptions {
  /** How long after an instance's end late events still count, ms. Default 0. */
  graceMs?: number;
  /** The name instances are kept under, instead of the canonical duration. */
  name?: string;
}

/**
 * Windows of a fixed size whose starts are multiples of the hop since the epoch: tumbling by
 * default (the hop is the size), hopping after {@link TimeWindows.advanceBy}.
 *
 * The name is the canonical ISO-8601 duration of the size (`PT6H`, `P3D`; see `formatDuration`),
 * for hopping windows the size and the hop joined by `+` (`PT1H+PT10M`), unless a name is given.
 * Names hold only letters, digits and `_ . + -`, so they can sit in Redis keys before a `:`.
 *
 * A hopping event time falls in `floor(size / hop)` or `ceil(size / hop)` instances: always
 * `size / hop` when the hop divides the size. Instances may start before the epoch (the first
 * ones holding `ts = 0`); those that end at or before 0 hold no event time and are never returned.
 * Definitions are immutable: `advanceBy` and `withName` return new ones.
 *
 * ## Example
 * ```ts
 * import { TimeWindows } from './topology/windows/index.js';
 *
 * const sixHours = TimeWindows.of('PT360M', { graceMs: 300_000 });
 * sixHours.name; // 'PT6H'
 * sixHours.windowAt(Date.UTC(2026, 0, 1, 7)); // { start: 2026-01-01T06:00Z, end: 12:00Z }
 *
 * const hopping = TimeWindows.ofSize(3_600_000).advanceBy(600_000);
 * hopping.name; // 'PT1H+PT10M'
 * hopping.windowsFor(Date.UTC(2026, 0, 1, 7, 5)).length; // 6
 * ```
 *
 * @see {@link CalendarWindows}
 * @see {@link GlobalWindows}
 */
export class TimeWindows implements WindowDefinition {
  private constructor(
    readonly sizeMs: number,
    readonly advanceMs: number,
    readonly graceMs: number,
    readonly name: string,
  ) {}

  /**
   * Tumbling windows of `sizeMs` with no grace period.
   * @param sizeMs Window size, a positive integer of milliseconds.
   * @return The definition, named after the size (`ofSize(21_600_000).name === 'PT6H'`).
   */
  static ofSize(sizeMs: number): TimeWindows {
    return TimeWindows.ofSizeAndGrace(sizeMs, 0);
  }

  /**
   * Tumbling windows of `sizeMs` whose late events count until `graceMs` after their end.
   * @param sizeMs Window size, a positive integer of milliseconds.
   * @param graceMs Grace period, an integer of milliseconds >= 0.
   * @return The definition, named after the size.
   */
  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    requirePositiveInteger('sizeMs', sizeMs);
    requireGrace('TimeWindows', graceMs);
    return new TimeWindows(sizeMs, sizeMs, graceMs, derivedName(sizeMs, sizeMs));
  }

  /**
   * Tumbling windows of an ISO-8601 duration of fixed length.
   *
   * @example
   * TimeWindows.of('PT90M').name; // 'PT1H30M'
   * TimeWindows.of('P1D', { graceMs: 600_000, name: 'utc-day' }).name; // 'utc-day'
   *
   * @param duration E.g. `PT6H`, `P3D`, `P1DT12H` (see `parseDuration`).
   * @param options Grace period and an explicit name.
   * @return The definition, named after the canonical duration unless `options.name` is given.
   */
  static of(duration: string, options: TimeWindowsOptions = {}): TimeWindows {
    const windows = TimeWindows.ofSizeAndGrace(parseDuration(duration), options.graceMs ?? 0);
    return options.name === undefined ? windows : windows.withName(options.name);
  }

  /**
   * Hopping windows: a new instance starts every `advanceMs`. The name becomes
   * `<size>+<advance>`; an explicit name is not carried over, since it named other windows.
   * @param advanceMs The hop, an integer with `0 < advanceMs <= sizeMs`.
   * @return A new definition with the same size and grace.
   */
  advanceBy(advanceMs: number): TimeWindows {
    requirePositiveInteger('advanceMs', advanceMs);
    if (advanceMs > this.sizeMs) {
      throw new RangeError(`TimeWindows: advanceMs must be <= sizeMs (${this.sizeMs}), got ${advanceMs}`);
    }
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs, derivedName(this.sizeMs, advanceMs));
  }

  /**
   * The same windows under another name.
   * @param name Letters, digits and `_ . + -`, 1 to 64 characters.
   * @return A new definition.
   */
  withName(name: string): TimeWindows {
    requireWindowName('TimeWindows', name);
    return new TimeWindows(this.sizeMs, this.advanceMs, this.graceMs, name);
  }

  /** Every instance that contains `ts`, oldest first. */
  windowsFor(ts: number): TimeWindow[] {
    requireEventTime('TimeWindows', ts);
    const lastStart = Math.floor(ts / this.advanceMs) * this.advanceMs;
    // The oldest instance still holding ts is the first start above ts - size.
    let start = (Math.floor((ts - this.sizeMs) / this.advanceMs) + 1) * this.advanceMs;
    const windows: TimeWindow[] = [];
    for (; start <= lastStart; start += this.advanceMs) windows.push({ start, end: start + this.sizeMs });
    return windows;
  }

  /** The newest instance that contains `ts`. */
  windowAt(ts: number): TimeWindow {
    requireEventTime('TimeWindows', ts);
    const start = Math.floor(ts / this.advanceMs) * this.advanceMs;
    return { start, end: start + this.sizeMs };
  }

  /** The instance starting at `start`: a multiple of the hop whose instance ends after 0. */
  windowStartingAt(start: number): TimeWindow | undefined {
    if (!Number.isSafeInteger(start) || start % this.advanceMs !== 0 || start + this.sizeMs <= 0) {
      return undefined;
    }
    return { start, end: start + this.sizeMs };
  }

  /**
   * The instance that ends where `window` starts. Hopping windows have one only when the hop
   * divides the size; none of them ends at or before 0.
   */
  previous(window: TimeWindow): TimeWindow | undefined {
    return this.windowStartingAt(window.start - this.sizeMs);
  }

  describe(): string {
    const size = formatDuration(this.sizeMs);
    const kind =
      this.advanceMs === this.sizeMs
        ? `tumbling ${size}`
        : `hopping ${size} advancing by ${formatDuration(this.advanceMs)}`;
    const grace = this.graceMs > 0 ? `, grace ${formatDuration(this.graceMs)}` : '';
    const named = this.name === derivedName(this.sizeMs, this.advanceMs) ? '' : ` named '${this.name}'`;
    return `${kind}${grace}${named}`;
  }
}

function derivedName(sizeMs: number, advanceMs: number): string {
  return advanceMs === sizeMs
    ? formatDuration(sizeMs)
    : `${formatDuration(sizeMs)}+${formatDuration(advanceMs)}`;
}

function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(
      `TimeWindows: ${name} must be a positive integer number of milliseconds, got ${value}`,
    );
  }
}
