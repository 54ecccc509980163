/**
 * A brute-force reference for calendar windows, to test `CalendarWindows` against. It reads the
 * wall clock with `formatToParts` (not the library's digit reader) and finds boundaries by walking
 * the clock minute by minute instead of reasoning about offsets. Slow, and meant to be obviously
 * right for event times from 1990 to 2100, where every zone's offsets and changes fall on whole
 * minutes, offsets lie within UTC-12 to UTC+14, and no clock is set back by more than 3 hours.
 */
import type { TimeWindow } from '../../../operators/windowing.js';
import type { CalendarUnit } from '../../../topology/windows/calendarWindows.js';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, format);
  }
  return format;
}

/** The local wall-clock time at `t`, as epoch ms of the same UTC wall-clock time. */
export function wallClock(zone: string, t: number): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(t)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const millis = ((t % 1000) + 1000) % 1000;
  return (
    Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) + millis
  );
}

/** The zone's offset at `t`: wall clock minus UTC. */
export function offsetAt(zone: string, t: number): number {
  return wallClock(zone, t) - t;
}

/** The local start of the unit that holds a local time (day, Monday, 1st), by `Date` fields. */
export function unitFloor(unit: Exclude<CalendarUnit, 'hour'>, local: number): number {
  const date = new Date(local);
  const day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  if (unit === 'day') return day;
  if (unit === 'week') return day - ((date.getUTCDay() + 6) % 7) * DAY;
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

function unitAfter(unit: Exclude<CalendarUnit, 'hour'>, local: number): number {
  const date = new Date(local);
  if (unit === 'day') return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
  if (unit === 'week') return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 7);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/**
 * The first instant whose wall clock shows `local` or later. Walks hours, then the minutes of the
 * last hours before (a clock set back may have shown `local` for a moment), then milliseconds.
 */
export function firstReach(zone: string, local: number): number {
  // No clock is 14 hours ahead of UTC, so nothing before this instant shows `local` yet.
  let hour = Math.floor((local - 15 * HOUR) / HOUR) * HOUR;
  while (wallClock(zone, hour) < local) hour += HOUR;
  let minute = hour - 4 * HOUR;
  while (wallClock(zone, minute) < local) minute += MINUTE;
  let below = minute - MINUTE;
  let reached = minute;
  while (reached - below > 1) {
    const middle = Math.floor((below + reached) / 2);
    if (wallClock(zone, middle) >= local) reached = middle;
    else below = middle;
  }
  return reached;
}

/**
 * The day, week or month instance holding `ts`: from the first instant the clock reaches the
 * unit's local start to the first instant it reaches the next one's.
 */
export function calendarWindowOracle(
  zone: string,
  unit: Exclude<CalendarUnit, 'hour'>,
  ts: number,
): TimeWindow {
  let local = unitFloor(unit, wallClock(zone, ts));
  let start = firstReach(zone, local);
  let end = firstReach(zone, unitAfter(unit, local));
  while (end <= ts) {
    start = end;
    local = unitAfter(unit, local);
    end = firstReach(zone, unitAfter(unit, local));
  }
  return { start, end };
}

/** Whether an hour instance starts at the whole minute `t`: a whole local hour, or an offset change. */
function startsHour(zone: string, t: number): boolean {
  return wallClock(zone, t) % HOUR === 0 || offsetAt(zone, t) !== offsetAt(zone, t - MINUTE);
}

/** The hour instance holding `ts`, between the boundary minutes around it. */
export function hourWindowOracle(zone: string, ts: number): TimeWindow {
  let start = Math.floor(ts / MINUTE) * MINUTE;
  while (!startsHour(zone, start)) start -= MINUTE;
  let end = start + MINUTE;
  while (!startsHour(zone, end)) end += MINUTE;
  return { start, end };
}

/**
 * The instants a zone changes its offset in a year: found by sampling every 3 days (changes are
 * at least 6.9 days apart) and halving each interval that holds one down to the millisecond.
 */
export function changesInYear(zone: string, year: number): number[] {
  const changes: number[] = [];
  const end = Date.UTC(year + 1, 0, 1);
  for (let t = Date.UTC(year, 0, 1); t < end; t += 3 * DAY) {
    const offset = offsetAt(zone, t);
    if (offset === offsetAt(zone, t + 3 * DAY)) continue;
    let same = t;
    let changed = t + 3 * DAY;
    while (changed - same > 1) {
      const middle = Math.floor((same + changed) / 2);
      if (offsetAt(zone, middle) === offset) same = middle;
      else changed = middle;
    }
    changes.push(changed);
  }
  return changes;
}
