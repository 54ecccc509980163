/**
 * The global window: one instance for all time, `[0, +Infinity)`, that never closes. A board's
 * all-time scores live in it.
 */
import type { TimeWindow, WindowDefinition } from '../../operators/windowing.js';
import { requireEventTime } from './windowArguments.js';

/**
 * The single window `[0, +Infinity)`, named `all`. Every event time (epoch ms >= 0) falls in it;
 * it has nothing before it, and since it ends at `+Infinity` it is never closed, so its grace
 * period is 0.
 *
 * ## Example
 * ```ts
 * import { GlobalWindows } from './topology/windows/index.js';
 *
 * const all = GlobalWindows.create();
 * all.windowsFor(Date.now()); // [{ start: 0, end: Infinity }]
 * all.previous(all.windowAt(Date.now())); // undefined
 * ```
 *
 * @see {@link TimeWindows}
 * @see {@link CalendarWindows}
 */
export class GlobalWindows implements WindowDefinition {
  private static readonly shared = new GlobalWindows();

  readonly name = 'all';
  readonly graceMs = 0;

  private constructor() {}

  /**
   * The global window definition (one shared, stateless instance).
   * @return The definition named `all`.
   */
  static create(): GlobalWindows {
    return GlobalWindows.shared;
  }

  /** @return `[{ start: 0, end: Infinity }]` for every event time. */
  windowsFor(ts: number): TimeWindow[] {
    return [this.windowAt(ts)];
  }

  /** @return `{ start: 0, end: Infinity }`. */
  windowAt(ts: number): TimeWindow {
    requireEventTime('GlobalWindows', ts);
    return { start: 0, end: Number.POSITIVE_INFINITY };
  }

  /** @return The instance for `start === 0`, otherwise undefined. */
  windowStartingAt(start: number): TimeWindow | undefined {
    return start === 0 ? { start: 0, end: Number.POSITIVE_INFINITY } : undefined;
  }

  /** @return Always undefined: nothing comes before all time. */
  previous(_window: TimeWindow): TimeWindow | undefined {
    return undefined;
  }

  describe(): string {
    return 'global window (all time)';
  }
}
