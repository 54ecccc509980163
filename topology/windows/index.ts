/**
 * The library's kinds of window, each an implementation of the operators' `WindowDefinition`:
 * the global window, epoch-aligned tumbling and hopping windows, calendar windows in a time zone,
 * and the names board configs use for them.
 */

export type { CalendarUnit, CalendarWindowsOptions } from './calendarWindows.js';
export { CALENDAR_UNITS, CalendarWindows } from './calendarWindows.js';
export { canonicalDuration, formatDuration, parseDuration } from './durations.js';
export { GlobalWindows } from './globalWindows.js';
export type { TimeWindowsOptions } from './timeWindows.js';
export { TimeWindows } from './timeWindows.js';
export { MAX_EVENT_TIME, WINDOW_NAME_PATTERN } from './windowArguments.js';
export type { WindowDefinitionOptions, WindowNameCheck } from './windowsByName.js';
export {
  canonicalWindowName,
  checkWindowName,
  isWindowName,
  MAX_DURATION_WINDOW_MS,
  MIN_DURATION_WINDOW_MS,
  NAMED_WINDOWS,
  windowDefinition,
} from './windowsByName.js';
