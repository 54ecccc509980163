import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CalendarWindows,
  canonicalWindowName,
  checkWindowName,
  formatDuration,
  GlobalWindows,
  isWindowName,
  TimeWindows,
  WINDOW_NAME_PATTERN,
  windowDefinition,
} from '../../../topology/windows/index.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

describe('checkWindowName', () => {
  it.each([
    ['all', 'all'],
    ['hour', 'hour'],
    ['day', 'day'],
    ['week', 'week'],
    ['month', 'month'],
    ['PT6H', 'PT6H'],
    ['PT360M', 'PT6H'],
    ['PT24H', 'P1D'],
    ['P1W', 'P7D'],
    ['PT1M', 'PT1M'],
    ['PT60S', 'PT1M'],
    ['P366D', 'P366D'],
    ['P1DT12H', 'P1DT12H'],
  ])('reads %s as the window %s', (text, name) => {
    expect(checkWindowName(text)).toEqual({ ok: true, name });
    expect(canonicalWindowName(text)).toBe(name);
    expect(isWindowName(text)).toBe(true);
  });

  it.each([
    ['PT30S', "window 'PT30S' is shorter than PT1M"],
    ['PT59.999S', "window 'PT59.999S' is shorter than PT1M"],
    ['P367D', "window 'P367D' is longer than P366D"],
    ['P53W', "window 'P53W' is longer than P366D"],
    [
      'fortnight',
      "unknown window 'fortnight'; use all, hour, day, week, month or an ISO-8601 duration such as PT6H",
    ],
    ['Day', "unknown window 'Day'; use all, hour, day, week, month or an ISO-8601 duration such as PT6H"],
    ['pt6h', "unknown window 'pt6h'; use all, hour, day, week, month or an ISO-8601 duration such as PT6H"],
    ['', "unknown window ''; use all, hour, day, week, month or an ISO-8601 duration such as PT6H"],
    [
      'P1M',
      "window 'P1M' counts months, which have no fixed length; write it in days (e.g. P30D), or use the calendar window month",
    ],
    [
      'P1Y',
      "window 'P1Y' counts years, which have no fixed length; write it in days (e.g. P30D), or use the calendar window month",
    ],
    [
      'PT6X',
      "window 'PT6X' is not in ISO-8601 form (e.g. PT6H, P3D, P1DT12H, PT90M, PT0.5S; designators in upper case)",
    ],
    ['PT0S', "window 'PT0S' is zero; a window needs a positive length"],
  ])('refuses %s: %s', (text, message) => {
    expect(checkWindowName(text)).toEqual({ ok: false, message });
    expect(isWindowName(text)).toBe(false);
    expect(() => canonicalWindowName(text)).toThrow(new RangeError(message));
  });

  it('refuses what is not a string without throwing', () => {
    expect(checkWindowName(6)).toEqual({ ok: false, message: 'a window name is a string, got number' });
    expect(isWindowName(undefined)).toBe(false);
  });

  it('reads every duration from PT1M to P366D to the canonical name, which a key can hold', () => {
    fc.assert(
      fc.property(fc.integer({ min: MINUTE, max: 366 * DAY }), (ms) => {
        const minutes = `PT${Math.floor(ms / MINUTE)}M${ms % MINUTE === 0 ? '' : `${(ms % MINUTE) / 1000}S`}`;
        const check = checkWindowName(minutes);
        expect(check).toEqual({ ok: true, name: formatDuration(ms) });
        if (check.ok) expect(check.name).toMatch(WINDOW_NAME_PATTERN);
      }),
    );
  });

  it('fits a zod schema that turns any accepted spelling into the canonical name', () => {
    const windowName = z.string().transform((text, ctx) => {
      const check = checkWindowName(text);
      if (check.ok) return check.name;
      ctx.addIssue({ code: 'custom', message: check.message });
      return z.NEVER;
    });
    const windows = z.array(windowName);
    expect(windows.parse(['day', 'PT360M', 'P1W'])).toEqual(['day', 'PT6H', 'P7D']);
    const result = windows.safeParse(['day', 'PT30S']);
    expect(result.success).toBe(false);
    expect(result.error?.issues).toMatchObject([
      { path: [1], message: "window 'PT30S' is shorter than PT1M" },
    ]);
  });
});

describe('windowDefinition', () => {
  it('gives the global window for all, calendar windows in the zone, tumbling UTC windows for durations', () => {
    expect(windowDefinition('all')).toBe(GlobalWindows.create());
    const day = windowDefinition('day', { timeZone: 'Europe/Paris', graceMs: 300_000 });
    expect(day).toBeInstanceOf(CalendarWindows);
    expect(day.describe()).toBe('calendar day in Europe/Paris, grace PT5M');
    expect(day.windowAt(Date.UTC(2026, 2, 29, 12))).toEqual({
      start: Date.UTC(2026, 2, 28, 23),
      end: Date.UTC(2026, 2, 29, 22),
    });
    const sixHours = windowDefinition('PT360M', { timeZone: 'Europe/Paris', graceMs: 60_000 });
    expect(sixHours).toBeInstanceOf(TimeWindows);
    expect(sixHours.name).toBe('PT6H');
    expect(sixHours.graceMs).toBe(60_000);
    // A duration window ignores the zone: six hours from UTC midnight.
    expect(sixHours.windowAt(Date.UTC(2026, 0, 1, 7))).toEqual({
      start: Date.UTC(2026, 0, 1, 6),
      end: Date.UTC(2026, 0, 1, 12),
    });
  });

  it('hands out one definition per canonical name, zone and grace', () => {
    expect(windowDefinition('PT360M')).toBe(windowDefinition('PT6H'));
    expect(windowDefinition('PT6H', { timeZone: 'Europe/Paris' })).toBe(windowDefinition('PT6H'));
    expect(windowDefinition('PT6H', { graceMs: 1 })).not.toBe(windowDefinition('PT6H'));
    expect(windowDefinition('day', { timeZone: 'Europe/Paris' })).toBe(
      windowDefinition('day', { timeZone: 'Europe/Paris' }),
    );
    expect(windowDefinition('day', { timeZone: 'Europe/Paris' })).not.toBe(windowDefinition('day'));
    expect(windowDefinition('day').describe()).toBe('calendar day in UTC');
    expect(windowDefinition('all', { graceMs: 5000 })).toBe(windowDefinition('all'));
  });

  it('refuses unknown windows, unknown zones (for durations too) and bad grace periods', () => {
    expect(() => windowDefinition('fortnight')).toThrow("unknown window 'fortnight'");
    expect(() => windowDefinition('PT30S')).toThrow("window 'PT30S' is shorter than PT1M");
    expect(() => windowDefinition('day', { timeZone: 'Mars/Olympus' })).toThrow(
      "unknown time zone 'Mars/Olympus'",
    );
    expect(() => windowDefinition('PT6H', { timeZone: 'Mars/Olympus' })).toThrow(
      "unknown time zone 'Mars/Olympus'",
    );
    expect(() => windowDefinition('day', { graceMs: -5 })).toThrow('graceMs must be an integer');
  });
});
