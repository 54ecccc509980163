/**
 * The windows a board config or a read names: `all`, `hour`, `day`, `week`, `month` (calendar
 * windows in the board's zone) or an ISO-8601 duration from `PT1M` to `P366D` (tumbling,
 * epoch-aligned, in UTC). A name is read once into its canonical form, so a config that says
 * `PT360M` means the window named `PT6H`, and one definition serves each (name, zone, grace).
 */
import type { WindowDefinition } from '../../operators/windowing.js';
import { CalendarWindows } from './calendarWindows.js';
import { formatDuration, parseDuration } from './durations.js';
import { GlobalWindows } from './globalWindows.js';
import { TimeWindows } from './timeWindows.js';
import { requireGrace } from './windowArguments.js';
import { ZoneClock } from './zoneClock.js';

/** The names of the windows that are not durations. */
export const NAMED_WINDOWS = ['all', 'hour', 'day', 'week', 'month'] as const;

/** The shortest duration window, 1 minute. */
export const MIN_DURATION_WINDOW_MS = 60_000;
/** The longest duration window, 366 days. */
export const MAX_DURATION_WINDOW_MS = 366 * 86_400_000;

/** The outcome of {@link checkWindowName}: the canonical name, or why the text names no window. */
export type WindowNameCheck = { ok: true; name: string } | { ok: false; message: string };

/** Options of {@link windowDefinition}. */
export interface WindowDefinitionOptions {
  /** The zone of the calendar windows (`hour` to `month`); durations ignore it. Default `UTC`. */
  timeZone?: string;
  /** How long after an instance's end late events still count, ms. Default 0; `all` has none. */
  graceMs?: number;
}

/** Definitions are cached per (name, zone, grace); this many at most, the oldest dropped first. */
const CACHE_LIMIT = 1000;
const definitions = new Map<string, WindowDefinition>();

const UNKNOWN_HINT = 'use all, hour, day, week, month or an ISO-8601 duration such as PT6H';

/**
 * Reads a window name into its canonical form, or says why it names no window. Made to sit in a
 * schema: it never throws.
 *
 * ## Example
 * ```ts
 * import { z } from 'zod';
 * import { checkWindowName } from './topology/windows/index.js';
 *
 * checkWindowName('PT360M'); // { ok: true, name: 'PT6H' }
 * checkWindowName('PT30S'); // { ok: false, message: "window 'PT30S' is shorter than PT1M" }
 *
 * const windowName = z.string().transform((text, ctx) => {
 *   const check = checkWindowName(text);
 *   if (check.ok) return check.name;
 *   ctx.addIssue({ code: 'custom', message: check.message });
 *   return z.NEVER;
 * });
 * ```
 *
 * @see {@link windowDefinition}
 * @param text A window name as written in a config or a request.
 * @return `{ ok: true, name }` with the canonical name, or `{ ok: false, message }`.
 */
export function checkWindowName(text: unknown): WindowNameCheck {
  if (typeof text !== 'string')
    return { ok: false, message: `a window name is a string, got ${typeof text}` };
  if ((NAMED_WINDOWS as readonly string[]).includes(text)) return { ok: true, name: text };
  if (!text.startsWith('P')) return { ok: false, message: `unknown window '${text}'; ${UNKNOWN_HINT}` };
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (error) {
    return { ok: false, message: `window ${(error as Error).message.replace(/^duration /, '')}` };
  }
  if (ms < MIN_DURATION_WINDOW_MS) return { ok: false, message: `window '${text}' is shorter than PT1M` };
  if (ms > MAX_DURATION_WINDOW_MS) return { ok: false, message: `window '${text}' is longer than P366D` };
  return { ok: true, name: formatDuration(ms) };
}

/**
 * Whether a text names a window, in any form (`PT360M` does, as `PT6H`).
 *
 * @example
 * isWindowName('day'); // true
 * isWindowName('fortnight'); // false
 *
 * @param text A window name.
 * @return `true` when {@link checkWindowName} accepts it.
 */
export function isWindowName(text: unknown): boolean {
  return checkWindowName(text).ok;
}

/**
 * The canonical form of a window name.
 *
 * @example
 * canonicalWindowName('PT24H'); // 'P1D'
 * canonicalWindowName('fortnight'); // throws RangeError: unknown window 'fortnight'; use all, ...
 *
 * @param text A window name.
 * @return The canonical name.
 * @throws RangeError with {@link checkWindowName}'s message.
 */
export function canonicalWindowName(text: string): string {
  const check = checkWindowName(text);
  if (!check.ok) throw new RangeError(check.message);
  return check.name;
}

/**
 * The definition of a named window, cached per (canonical name, zone, grace): `all` is the global
 * window, `hour`, `day`, `week` and `month` are calendar windows in `timeZone`, a duration is a
 * tumbling window aligned to the epoch in UTC (the zone is checked but does not move it).
 *
 * ## Example
 * ```ts
 * import { windowDefinition } from './topology/windows/index.js';
 *
 * const day = windowDefinition('day', { timeZone: 'Europe/Paris', graceMs: 300_000 });
 * day.describe(); // 'calendar day in Europe/Paris, grace PT5M'
 * windowDefinition('PT360M').name; // 'PT6H'
 * windowDefinition('PT360M') === windowDefinition('PT6H'); // true
 * ```
 *
 * @see {@link checkWindowName}
 * @param name A window name, in any form {@link checkWindowName} accepts.
 * @param options The calendar windows' zone and the grace period.
 * @return The definition, whose `name` is the canonical name.
 * @throws RangeError for an unknown window, an unknown time zone or a bad grace period.
 */
export function windowDefinition(name: string, options: WindowDefinitionOptions = {}): WindowDefinition {
  const canonical = canonicalWindowName(name);
  const timeZone = options.timeZone ?? 'UTC';
  const graceMs = options.graceMs ?? 0;
  ZoneClock.for(timeZone);
  requireGrace('windowDefinition', graceMs);

  const calendar =
    canonical === 'hour' || canonical === 'day' || canonical === 'week' || canonical === 'month';
  const key = canonical === 'all' ? 'all' : `${canonical}|${calendar ? timeZone : 'UTC'}|${graceMs}`;
  const cached = definitions.get(key);
  if (cached !== undefined) return cached;

  let definition: WindowDefinition;
  if (canonical === 'all') definition = GlobalWindows.create();
  else if (calendar) definition = CalendarWindows.of(canonical, { timeZone, graceMs });
  else definition = TimeWindows.of(canonical, { graceMs });

  if (definitions.size >= CACHE_LIMIT) definitions.delete(definitions.keys().next().value as string);
  definitions.set(key, definition);
  return definition;
}
