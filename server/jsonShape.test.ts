import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonShapeExcess } from './jsonShape.js';

const UNLIMITED = Number.MAX_SAFE_INTEGER;

/** How deep arrays and objects nest in a parsed value (a scalar: 0). */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === 'object')
    return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

/** What the scan counts as values: 1, plus one per array or object, plus one per comma. */
function valuesOf(value: unknown): number {
  const inner = (v: unknown): number => {
    const members = Array.isArray(v) ? v : v !== null && typeof v === 'object' ? Object.values(v) : undefined;
    if (!members) return 0;
    return 1 + Math.max(0, members.length - 1) + members.reduce((sum: number, m) => sum + inner(m), 0);
  };
  return 1 + inner(value);
}

/** JSON texts: compact or indented, with strings full of brackets, quotes and backslashes. */
const tricky = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', ',', '"', '\\', 'a', ' ', 'é') });
const value = fc.oneof(
  fc.jsonValue({ maxDepth: 6 }),
  fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      tricky,
      fc.array(tie('node'), { maxLength: 4 }),
      fc.dictionary(tricky, tie('node'), { maxKeys: 3 }),
    ),
  })).node,
);
const texts = fc.tuple(value, fc.constantFrom(undefined, 1, '\t')).map(([v, space]) => ({
  value: v as unknown,
  text: JSON.stringify(v, null, space),
}));

describe('jsonShapeExcess', () => {
  it('finds exactly the texts nested deeper than the limit', () => {
    fc.assert(
      fc.property(texts, fc.integer({ min: 0, max: 7 }), ({ value, text }, maxDepth) => {
        const over = depthOf(value) > maxDepth;
        expect(jsonShapeExcess(text, { maxDepth, maxValues: UNLIMITED })).toBe(over ? 'depth' : undefined);
      }),
      { numRuns: 3000 },
    );
  });

  it('finds exactly the texts holding more values than the limit', () => {
    fc.assert(
      fc.property(texts, fc.integer({ min: 1, max: 40 }), ({ value, text }, maxValues) => {
        const over = valuesOf(value) > maxValues;
        expect(jsonShapeExcess(text, { maxDepth: UNLIMITED, maxValues })).toBe(over ? 'values' : undefined);
      }),
      { numRuns: 3000 },
    );
  });

  it('stops at the 33rd level of 3 million nested arrays (the 6 MB body of issue 15)', () => {
    const text = '['.repeat(3_000_000) + ']'.repeat(3_000_000);
    expect(jsonShapeExcess(text, { maxDepth: 32, maxValues: 65_536 })).toBe('depth');
    expect(
      jsonShapeExcess('['.repeat(32) + ']'.repeat(32), { maxDepth: 32, maxValues: 65_536 }),
    ).toBeUndefined();
  });

  it('refuses 2.8 million empty objects and 800,000 keys by their count, and passes a batch of 10,000 events', () => {
    const limits = { maxDepth: 32, maxValues: 65_536 };
    expect(jsonShapeExcess(`[${new Array(2_800_000).fill('{}').join(',')}]`, limits)).toBe('values');
    const keys = Array.from({ length: 800_000 }, (_, i) => `"k${i}":0`).join(',');
    expect(jsonShapeExcess(`{${keys}}`, limits)).toBe('values');
    const events = Array.from({ length: 10_000 }, (_, i) => ({
      board: 'global',
      userId: `u${i}`,
      value: i,
      ts: 1_763_856_000_000,
      eventId: `e${i}`,
    }));
    expect(jsonShapeExcess(JSON.stringify({ events }), limits)).toBeUndefined();
  });

  it('reads escapes inside strings: an escaped quote does not end the string, an escaped backslash does', () => {
    const limits = { maxDepth: 1, maxValues: UNLIMITED };
    expect(jsonShapeExcess('["\\"[[[", 1]', limits)).toBeUndefined();
    expect(jsonShapeExcess('["\\\\", [1]]', limits)).toBe('depth');
    expect(jsonShapeExcess('["\\\\\\"[[", 1]', limits)).toBeUndefined();
  });

  it('leaves texts that are not JSON to JSON.parse (unterminated strings, stray brackets)', () => {
    const limits = { maxDepth: 2, maxValues: 10 };
    expect(jsonShapeExcess('"[[[[[[', limits)).toBeUndefined();
    expect(jsonShapeExcess(']]]]]]', limits)).toBeUndefined();
    expect(jsonShapeExcess('', limits)).toBeUndefined();
  });
});
