/**
 * A time zone's wall clock as calendar windows need it: the UTC offset at an instant, the first
 * instant the clock reaches a local time, and where the offset changes. Offsets come from one
 * cached `Intl.DateTimeFormat` per zone (Node's full ICU, so the tz database it ships).
 *
 * `Intl` has no API for a zone's offset changes, so the clock finds them by sampling, and relies
 * on one fact of the tz database: a zone changes its offset at most once within five days. In the
 * database of Node 20 (tz 2025c), from 1970 to 2100, the closest two changes of any zone Intl knows
 * are 6.96 days apart (America/Boa_Vista, October 2000). Changes fall on whole seconds.
 */

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;
/** Around a local time, offsets are sampled this far on both sides to see whether one changes. */
const SAMPLE_SPAN_MS = 2 * DAY_MS;

type Field = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second';
const FIELDS: readonly Field[] = ['year', 'month', 'day', 'hour', 'minute', 'second'];

/**
 * The wall clock of one IANA time zone.
 *
 * ## Example
 * ```ts
 * import { ZoneClock } from './topology/windows/zoneClock.js';
 *
 * const paris = ZoneClock.for('Europe/Paris');
 * paris.offsetAt(Date.UTC(2026, 6, 1)); // 7_200_000 (CEST)
 * // 2026-03-29 02:00 does not exist in Paris: the clock reaches it at 01:00Z, showing 03:00.
 * paris.firstReach(Date.UTC(2026, 2, 29, 2)); // Date.UTC(2026, 2, 29, 1)
 * ```
 */
export class ZoneClock {
  private static readonly clocks = new Map<string, ZoneClock>();

  /** The digit runs of one formatted instant, in the formatter's field order. */
  private readonly digits = [0, 0, 0, 0, 0, 0];
  /** For each of year, month, day, hour, minute, second: its position among the digit runs. */
  private readonly positions: number[];

  private constructor(
    /** The zone's name as `Intl` resolves it (`Europe/Paris`; `UTC` for `Etc/UTC`). */
    readonly resolvedName: string,
    private readonly formatter: Intl.DateTimeFormat | undefined,
  ) {
    this.positions = formatter === undefined ? [] : fieldPositions(formatter);
  }

  /**
   * The clock of a zone, one per zone name (names are case-insensitive, as `Intl` reads them).
   * @param timeZone An IANA name, e.g. `Europe/Paris`, `UTC`.
   * @return The zone's clock.
   * @throws RangeError naming the zone when `Intl` does not know it.
   */
  static for(timeZone: string): ZoneClock {
    if (typeof timeZone !== 'string') {
      throw new RangeError(`a time zone is an IANA name such as Europe/Paris, got ${typeof timeZone}`);
    }
    const key = timeZone.toLowerCase();
    const known = ZoneClock.clocks.get(key);
    if (known !== undefined) return known;
    let formatter: Intl.DateTimeFormat;
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        calendar: 'gregory',
        numberingSystem: 'latn',
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new RangeError(`unknown time zone '${timeZone}'; use an IANA name such as Europe/Paris, or UTC`);
    }
    const resolvedName = formatter.resolvedOptions().timeZone;
    // UTC never changes its offset: no formatting at all.
    const clock = new ZoneClock(resolvedName, resolvedName === 'UTC' ? undefined : formatter);
    ZoneClock.clocks.set(key, clock);
    return clock;
  }

  /**
   * The zone's UTC offset at an instant: local wall-clock time = `t + offsetAt(t)`.
   * @param t Epoch ms.
   * @return The offset in ms (whole seconds).
   */
  offsetAt(t: number): number {
    if (this.formatter === undefined) return 0;
    const second = Math.floor(t / SECOND_MS) * SECOND_MS;
    return this.wallClockAt(second) - second;
  }

  /**
   * The first instant the wall clock shows `local` or a later time: the instant of `local`, the
   * earlier of the two when the clock shows it twice (it was set back), or the instant the clock
   * jumped over it when it was set forward past it.
   * @param local A local wall-clock time as epoch ms of the same UTC wall-clock time.
   * @return Epoch ms.
   */
  firstReach(local: number): number {
    const before = this.offsetAt(local - SAMPLE_SPAN_MS);
    const after = this.offsetAt(local + SAMPLE_SPAN_MS);
    if (before === after) return local - before;
    const high = Math.max(before, after);
    const low = Math.min(before, after);
    // The clock shows `local` at one or both of these instants, or jumps over it between them.
    const early = local - high;
    const late = local - low;
    const offsetEarly = this.offsetAt(early);
    if (offsetEarly === high) return early;
    if (this.offsetAt(late) === offsetEarly) return late;
    return this.firstChange(early, late);
  }

  /**
   * The first instant in `(from, to]` whose offset differs from the offset at `from`; the caller
   * knows that the offset at `to` differs.
   * @param from Epoch ms.
   * @param to Epoch ms, `> from`.
   * @return The instant of the change, epoch ms (a whole second).
   */
  firstChange(from: number, to: number): number {
    const offset = this.offsetAt(from);
    let same = Math.floor(from / SECOND_MS);
    let changed = Math.floor(to / SECOND_MS);
    while (changed - same > 1) {
      const middle = Math.floor((same + changed) / 2);
      if (this.offsetAt(middle * SECOND_MS) === offset) same = middle;
      else changed = middle;
    }
    return changed * SECOND_MS;
  }

  /**
   * The wall-clock time at an instant, as epoch ms of the same UTC wall-clock time. Reads the
   * digits of `format()` in the field order `formatToParts` showed once: `formatToParts` itself
   * allocates a dozen objects per call and takes about three times as long.
   */
  private wallClockAt(t: number): number {
    const text = (this.formatter as Intl.DateTimeFormat).format(t);
    const digits = this.digits;
    let count = 0;
    let value = -1;
    for (let i = 0; i < text.length; i++) {
      const digit = text.charCodeAt(i) - 48;
      if (digit >= 0 && digit <= 9) {
        value = value < 0 ? digit : value * 10 + digit;
      } else if (value >= 0) {
        digits[count++] = value;
        value = -1;
      }
    }
    if (value >= 0) digits[count++] = value;
    if (count !== 6)
      throw new Error(`ZoneClock: cannot read the wall clock of ${this.resolvedName} in '${text}'`);
    const at = this.positions;
    return Date.UTC(
      digits[at[0]!]!,
      digits[at[1]!]! - 1,
      digits[at[2]!]!,
      digits[at[3]!]!,
      digits[at[4]!]!,
      digits[at[5]!]!,
    );
  }
}

function fieldPositions(formatter: Intl.DateTimeFormat): number[] {
  const order = formatter
    .formatToParts(0)
    .map((part) => part.type)
    .filter((type): type is Field => (FIELDS as readonly string[]).includes(type));
  if (order.length !== FIELDS.length) {
    throw new Error(`ZoneClock: unexpected date format fields ${order.join(', ')}`);
  }
  return FIELDS.map((field) => order.indexOf(field));
}
