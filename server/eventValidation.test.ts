import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  checkedBatchEvent,
  checkedEvent,
  isValidBatchBody,
  isValidId,
  normalizedId,
  parseBatch,
  parseEvent,
} from './eventValidation.js';
import { HttpError } from './httpError.js';
import {
  batchEventSchema,
  batchSchema,
  describeIssues,
  MAX_FUTURE_MS,
  parseBody,
  singleEventSchema,
  userIdSchema,
} from './validation.js';

const NOW = 1_763_856_000_000;

/**
 * Single UTF-16 units and pairs that sit on the rules' edges: controls, C1, surrogates, emoji,
 * the invisible (zero-width and bidirectional control) characters and their neighbours, and
 * what NFC changes: a decomposed "é", a lone combining mark, a character NFC expands (U+0958),
 * one it replaces (U+212B ANGSTROM SIGN), Hangul jamo it composes, the edge of the fast path
 * (U+02FF, U+0300).
 */
const edgeUnit = fc.constantFrom(
  'e\u0301',
  '\u0301',
  '\u0958',
  '\u212b',
  '\u1100\u1161',
  '\u02ff',
  '\u0300',
  '\u061b',
  '\u061c',
  '\u200a',
  '\u200b',
  '\u200d',
  '\u200e',
  '\u200f',
  '\u2010',
  '\u2029',
  '\u202a',
  '\u202e',
  '\u202f',
  '\u2060',
  '\u2065',
  '\u2066',
  '\u2069',
  '\ufeff',
  'a',
  'Z',
  '0',
  '_',
  ' ',
  'é',
  '\u0000',
  '\u0009',
  '\u001f',
  '\u007f',
  '\u0080',
  '\u009f',
  '\u00a0',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\ud83c\udfc6',
  '\uffff',
);
const unit = fc.oneof(
  edgeUnit,
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
);
/** Strings around the 128-code-point and 256-unit limits as well as short ones. */
const idLike = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit, maxLength: 12 }) },
  fc
    .tuple(
      fc.constantFrom('u', '🏆', 'é', '\ud800', 'e\u0301', '\u0958', 'a\u0301\u0302'),
      fc.integer({ min: 40, max: 260 }),
      fc.string({ unit }),
    )
    .map(([u, n, tail]) => u.repeat(n) + tail),
  // Around the raw length past which an id is not even normalised.
  fc
    .tuple(fc.constantFrom('e\u0301', 'u\u0308\u0304', 'a'), fc.integer({ min: 500, max: 1100 }))
    .map(([u, n]) => u.repeat(n)),
  fc.string({ unit: 'grapheme', maxLength: 140 }),
);
const anyJson = fc.jsonValue({ maxDepth: 2 });
/** A JSON number token that parses to ±Infinity (`JSON.stringify` cannot write one). */
class RawToken {
  constructor(readonly text: string) {}
}
const number = fc.oneof(
  fc.constantFrom(new RawToken('1e999'), new RawToken('-1e999')),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 2, 1e308),
);
const ts = fc.oneof(
  fc.integer({ min: NOW - 1000, max: NOW + MAX_FUTURE_MS + 1000 }),
  fc.constantFrom(NOW + MAX_FUTURE_MS, NOW + MAX_FUTURE_MS + 1, -1, 0, -0, 0.5, NOW + 0.25),
  number,
);
const boardId = fc.oneof(
  fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,63}$/),
  fc.constantFrom('', 'Global', '-x', 'a'.repeat(64), 'a'.repeat(65), 'a b', 'é'),
  fc.string({ unit, maxLength: 6 }),
);

/** Objects that are valid, nearly valid, or anything: some fields absent, wrong or extra. */
function eventLike(withBoard: boolean) {
  const field = <T>(valid: fc.Arbitrary<T>) =>
    fc.option(fc.oneof({ weight: 5, arbitrary: valid as fc.Arbitrary<unknown> }, anyJson), { freq: 6 });
  return fc
    .record({
      board: withBoard ? field(boardId) : fc.constant(null),
      userId: field(idLike),
      value: field(number),
      ts: fc.option(field(ts), { freq: 2 }),
      eventId: fc.option(field(idLike), { freq: 2 }),
      extra: fc.option(fc.tuple(fc.constantFrom('score', 'board', '__proto__', 'UserId'), anyJson), {
        freq: 8,
      }),
    })
    .map(({ board, userId, value, ts, eventId, extra }) => {
      // JSON.parse is where bodies come from: build the text so `__proto__` is an own key.
      const parts: string[] = [];
      const put = (name: string, v: unknown) => {
        if (v === null || v === undefined) return;
        const text = v instanceof RawToken ? v.text : (JSON.stringify(v) ?? 'null');
        parts.push(`${JSON.stringify(name)}:${text}`);
      };
      if (withBoard) put('board', board);
      put('userId', userId);
      put('value', value);
      put('ts', ts);
      put('eventId', eventId);
      if (extra && !(withBoard && extra[0] === 'board')) put(extra[0], extra[1]);
      return JSON.parse(`{${parts.join(',')}}`) as unknown;
    });
}

const bodies = (withBoard: boolean) => fc.oneof({ weight: 6, arbitrary: eventLike(withBoard) }, anyJson);

describe('hand-written event checks agree with the zod schemas', () => {
  beforeEach(() => {
    vi.spyOn(Date, 'now').mockReturnValue(NOW);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('ids: isValidId accepts exactly what userIdSchema accepts, and normalizedId gives its output', () => {
    fc.assert(
      fc.property(idLike, (s) => {
        const zod = userIdSchema.safeParse(s);
        expect(isValidId(s)).toBe(zod.success);
        expect(normalizedId(s)).toBe(zod.success ? zod.data : undefined);
      }),
      { numRuns: 5000 },
    );
  });

  it('ids: the NFC and NFD spellings of an id are the same id (or both refused)', () => {
    fc.assert(
      fc.property(fc.oneof(idLike, fc.string({ unit: 'grapheme', maxLength: 40 })), (s) => {
        const composed = normalizedId(s.normalize('NFC'));
        expect(normalizedId(s.normalize('NFD'))).toBe(composed);
        expect(normalizedId(s)).toBe(composed);
        if (composed !== undefined) expect(composed).toBe(composed.normalize('NFC'));
      }),
      { numRuns: 3000 },
    );
  });

  it('single events: same verdict as singleEventSchema, and the same fields when valid', () => {
    fc.assert(
      fc.property(bodies(false), (body) => {
        const zod = singleEventSchema.safeParse(body);
        expect(checkedEvent(structuredClone(body), NOW) !== undefined).toBe(zod.success);
        if (zod.success) expect(parseEvent(body)).toEqual(zod.data);
      }),
      { numRuns: 5000 },
    );
  });

  it('batch events: same verdict as batchEventSchema, and the same fields when valid', () => {
    fc.assert(
      fc.property(bodies(true), (event) => {
        const zod = batchEventSchema.safeParse(event);
        expect(checkedBatchEvent(structuredClone(event), NOW) !== undefined).toBe(zod.success);
        if (zod.success) expect(parseBatch({ events: [event] })).toEqual([zod.data]);
      }),
      { numRuns: 5000 },
    );
  });

  it('batch envelopes: same verdict as batchSchema', () => {
    const envelope = fc.oneof(
      fc.record({ events: fc.array(fc.constant({}), { maxLength: 3 }) }),
      fc.record({ events: anyJson }),
      fc.record({ events: fc.array(fc.constant(1), { maxLength: 2 }), more: anyJson }),
      fc.constantFrom(
        { events: new Array(10_000).fill(0) },
        { events: new Array(10_001).fill(0) },
        JSON.parse('{"__proto__":[],"events":[1]}') as unknown,
      ),
      anyJson,
    );
    fc.assert(
      fc.property(envelope, (body) => {
        expect(isValidBatchBody(body)).toBe(batchSchema.safeParse(body).success);
      }),
      { numRuns: 2000 },
    );
  });

  it("an invalid single event gets zod's 400 message, word for word", () => {
    fc.assert(
      fc.property(bodies(false), (body) => {
        if (singleEventSchema.safeParse(body).success) return;
        const fast = capture(() => parseEvent(body));
        const zod = capture(() => parseBody(singleEventSchema, body));
        expect(fast).toEqual(zod);
        expect(fast?.status).toBe(400);
      }),
      { numRuns: 2000 },
    );
  });

  it("an invalid batch names the first bad event's index with zod's message", () => {
    const batch = fc.array(bodies(true), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(batch, (events) => {
        const bad = events.findIndex((e) => !batchEventSchema.safeParse(e).success);
        const error = capture(() => parseBatch({ events: structuredClone(events) }));
        if (bad < 0) {
          expect(error).toBeUndefined();
          return;
        }
        const result = batchEventSchema.safeParse(events[bad], { reportInput: true });
        expect(error).toEqual({
          status: 400,
          code: 'invalid-event',
          message: `event ${bad} is invalid: ${describeIssues(result.error!, `events[${bad}]`)}`,
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the messages the contract tests rely on', () => {
    expect(capture(() => parseEvent({ userId: 'ann' }))?.message).toBe('value: is required');
    expect(capture(() => parseEvent({ userId: 'a\u0007', value: 1 }))?.message).toBe(
      'userId: must not contain control characters',
    );
    expect(capture(() => parseBatch({ events: [] }))?.message).toBe('events: must hold at least 1 event');
    for (const invisible of [
      '\u200b',
      '\u200d',
      '\u2060',
      '\ufeff',
      '\u061c',
      '\u200e',
      '\u202e',
      '\u2067',
    ]) {
      expect(capture(() => parseEvent({ userId: `ann${invisible}`, value: 1 }))).toEqual({
        status: 400,
        code: 'invalid-body',
        message: 'userId: must not contain zero-width or bidirectional control characters',
      });
      expect(capture(() => parseEvent({ userId: 'ann', value: 1, eventId: `${invisible}e` }))?.message).toBe(
        'eventId: must not contain zero-width or bidirectional control characters',
      );
    }
    expect(
      capture(() =>
        parseBatch({
          events: [
            { board: 'b', userId: 'a', value: 1 },
            { board: 'b', value: 1 },
          ],
        }),
      )?.message,
    ).toBe('event 1 is invalid: events[1].userId: is required');
  });
});

describe('ids are normalised to NFC', () => {
  it('a single event and a batch event in NFD come out in NFC, from both the fast checks and zod', () => {
    const nfd = 'Rene\u0301e';
    expect(parseEvent({ userId: nfd, value: 1, eventId: `e-${nfd}` })).toEqual({
      userId: 'Ren\u00e9e',
      value: 1,
      eventId: 'e-Ren\u00e9e',
    });
    expect(parseBatch({ events: [{ board: 'b', userId: nfd, value: 1 }] })).toEqual([
      { board: 'b', userId: 'Ren\u00e9e', value: 1 },
    ]);
    expect(userIdSchema.parse(nfd)).toBe('Ren\u00e9e');
  });

  it('counts the length of the NFC form: 128 decomposed "é" are 128 characters, 65 U+0958 are 130', () => {
    expect(normalizedId('e\u0301'.repeat(128))).toBe('\u00e9'.repeat(128));
    expect(normalizedId('e\u0301'.repeat(129))).toBeUndefined();
    expect('\u0958'.repeat(65).normalize('NFC')).toHaveLength(130);
    expect(normalizedId('\u0958'.repeat(65))).toBeUndefined();
    expect(normalizedId('\u0958'.repeat(64))).toBe('\u0958'.repeat(64).normalize('NFC'));
  });
});

function capture(run: () => unknown): { status: number; code: string; message: string } | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.status, code: error.code, message: error.message };
  }
}
