/**
 * What the operators need to know of a kind of window: which instances an event time falls in,
 * when an instance is closed for good, and the name its instances are kept under. The kinds
 * themselves (global, tumbling, hopping, calendar windows in a time zone) are defined by the
 * library's DSL (`topology/windows/`); the operators only see this interface.
 */

/** One window instance: `start` inclusive, `end` exclusive, epoch ms. */
export interface TimeWindow {
  start: number;
  end: number;
}

/**
 * A kind of window, with its grace period.
 *
 * ## Example
 * ```ts
 * import { TimeWindows } from '../topology/windows/index.js';
 * const hourly: WindowDefinition = TimeWindows.ofSizeAndGrace(3_600_000, 300_000);
 * hourly.windowsFor(Date.UTC(2026, 0, 1, 10, 30)); // [{ start: 10:00, end: 11:00 }]
 * ```
 */
export interface WindowDefinition {
  /**
   * The name the instances are kept and read under, e.g. `all`, `day`, `PT6H`: letters, digits
   * and `_ . + -` only (no `:`, which separates the name from an instance's start in keys).
   */
  readonly name: string;
  /** How long after an instance's end its late events are still applied, ms (>= 0). */
  readonly graceMs: number;
  /** Every instance that contains `ts`, oldest first (exactly one unless the windows hop). */
  windowsFor(ts: number): TimeWindow[];
  /** The newest instance that contains `ts`: what a read "at ts" means. */
  windowAt(ts: number): TimeWindow;
  /** The instance that starts exactly at `start`, or undefined when none does. */
  windowStartingAt(start: number): TimeWindow | undefined;
  /** The instance that ends where `window` starts (for walking back through closed ones), if any. */
  previous(window: TimeWindow): TimeWindow | undefined;
  /** A short human description, e.g. `tumbling 6h`, `calendar day in Europe/Paris`. */
  describe(): string;
}

/**
 * Whether an instance is closed for good: the partition's stream time has reached its end plus
 * the grace period. Stream time, not the wall clock, decides, so a replay of old data judges each
 * event as the live run did. An instance that ends at `+Infinity` is never late.
 *
 * @example
 * isClosed({ start: 0, end: 100 }, 150, 50); // true
 */
export function isClosed(window: Pick<TimeWindow, 'end'>, streamTime: number, graceMs: number): boolean {
  return streamTime >= window.end + graceMs;
}
