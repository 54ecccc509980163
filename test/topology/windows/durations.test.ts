import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalDuration, formatDuration, parseDuration } from '../../../topology/windows/durations.js';
import { WINDOW_NAME_PATTERN } from '../../../topology/windows/windowArguments.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseDuration', () => {
  it.each([
    ['PT6H', 6 * HOUR],
    ['P3D', 3 * DAY],
    ['P1DT12H', DAY + 12 * HOUR],
    ['PT90M', 90 * MINUTE],
    ['PT45S', 45 * SECOND],
    ['PT0.5S', 500],
    ['PT1.25S', 1250],
    ['PT0.001S', 1],
    ['P2W', 14 * DAY],
    ['P1W2DT3H4M5S', 9 * DAY + 3 * HOUR + 4 * MINUTE + 5 * SECOND],
    ['PT06H', 6 * HOUR],
    ['P0DT6H', 6 * HOUR],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['P1M', /counts months, which have no fixed length; write it in days \(e\.g\. P30D\)/],
    ['P1Y', /counts years, which have no fixed length/],
    ['P1Y2M3D', /counts years/],
    ['P2MT1H', /counts months/],
  ])('refuses %s, whose length varies, naming the unit', (text, message) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
    expect(() => parseDuration(text)).toThrow(message);
  });

  it.each([
    '',
    'P',
    'PT',
    'P1DT',
    'pt6h',
    'PT6h',
    'PT6H ',
    ' PT6H',
    '6H',
    'PT6X',
    'PT1,5S',
    'PT.5S',
    'P1.5D',
    'PT6H30',
  ])("refuses '%s', which is not an ISO-8601 duration", (text) => {
    expect(() => parseDuration(text)).toThrow(`duration '${text}' is not in ISO-8601 form`);
  });

  it('refuses signs, zero, sub-millisecond fractions and lengths beyond a safe integer of ms', () => {
    expect(() => parseDuration('-PT6H')).toThrow("duration '-PT6H' has a sign");
    expect(() => parseDuration('+PT6H')).toThrow("duration '+PT6H' has a sign");
    expect(() => parseDuration('PT0S')).toThrow("duration 'PT0S' is zero");
    expect(() => parseDuration('P0D')).toThrow("duration 'P0D' is zero");
    expect(() => parseDuration('PT0.0005S')).toThrow('finer than a millisecond');
    expect(() => parseDuration('P999999999999D')).toThrow('too long to count in milliseconds');
  });
});

describe('formatDuration', () => {
  it.each([
    [6 * HOUR, 'PT6H'],
    [DAY, 'P1D'],
    [7 * DAY, 'P7D'],
    [366 * DAY, 'P366D'],
    [DAY + 12 * HOUR, 'P1DT12H'],
    [90 * MINUTE, 'PT1H30M'],
    [MINUTE, 'PT1M'],
    [500, 'PT0.5S'],
    [1, 'PT0.001S'],
    [1250, 'PT1.25S'],
    [DAY + SECOND, 'P1DT1S'],
    [5 * HOUR + 400, 'PT5H0.4S'],
  ])('writes %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('refuses %s ms', (ms) => {
    expect(() => formatDuration(ms)).toThrow(RangeError);
  });
});

describe('canonical durations', () => {
  it.each([
    ['PT360M', 'PT6H'],
    ['PT24H', 'P1D'],
    ['P1W', 'P7D'],
    ['P0DT6H', 'PT6H'],
    ['PT3600S', 'PT1H'],
    ['PT1.500S', 'PT1.5S'],
    ['P1DT24H', 'P2D'],
  ])('writes %s as %s', (text, canonical) => {
    expect(canonicalDuration(text)).toBe(canonical);
  });

  it('reads back every length it writes, and writes names a window key can hold', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (ms) => {
        const text = formatDuration(ms);
        expect(parseDuration(text)).toBe(ms);
        expect(text).toMatch(WINDOW_NAME_PATTERN);
      }),
    );
  });

  it('writes any spelling of a length the way it writes the length itself', () => {
    const component = fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined });
    fc.assert(
      fc.property(
        fc.record({ w: component, d: component, h: component, m: component, s: component, ms: component }),
        ({ w, d, h, m, s, ms }) => {
          const millis = ms === undefined ? undefined : ms % 1000;
          const seconds =
            s === undefined && millis === undefined
              ? ''
              : `${s ?? 0}${millis ? `.${String(millis).padStart(3, '0')}` : ''}S`;
          const time = `${h === undefined ? '' : `${h}H`}${m === undefined ? '' : `${m}M`}${seconds}`;
          const text = `P${w === undefined ? '' : `${w}W`}${d === undefined ? '' : `${d}D`}${time ? `T${time}` : ''}`;
          const length =
            (w ?? 0) * 7 * DAY +
            (d ?? 0) * DAY +
            (h ?? 0) * HOUR +
            (m ?? 0) * MINUTE +
            (s ?? 0) * SECOND +
            (millis ?? 0);
          fc.pre(text !== 'P' && length > 0);
          expect(parseDuration(text)).toBe(length);
          expect(canonicalDuration(text)).toBe(formatDuration(length));
          expect(canonicalDuration(canonicalDuration(text))).toBe(canonicalDuration(text));
        },
      ),
    );
  });
});
