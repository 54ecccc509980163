/**
 * The leaderboard's stream layout (`scoreEventCodec`): the compact `s` field the edge writes, the
 * field-by-field layout (`b`, `u`, `v`, `t`, `i`) entries written before it (or by hand) use, and
 * what the workers reject, with which reason, through the library's decode stage.
 */
import fc from 'fast-check';
import { type Batch, partitionKeys } from 'redis-streams-consumer-groups';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { CONTROL_CHARACTERS, type ScoreEvent, scoreEventCodec } from '../../leaderboard/index.js';
import { decodeEntries } from '../../operators/decodeEntries.js';
import { MAX_EVENT_TIME } from '../../topology/windows/index.js';

const US = '\u001f';
const batch = (entries: [string, Record<string, string>][]): Batch => ({
  partition: 3,
  stream: partitionKeys('lb', 3).stream,
  entries: entries.map(([id, fields]) => ({ id, fields, deliveries: 1 })),
  firstId: entries[0]![0],
  lastId: entries[entries.length - 1]![0],
  epoch: 7,
  token: '7:c1',
  redelivered: false,
});
const decode = (fields: Record<string, string>) => scoreEventCodec.decode(fields);
const reasonOf = (fields: Record<string, string>) => {
  const decoded = decode(fields);
  return decoded.ok ? undefined : decoded.reason;
};

describe('scoreEventCodec through decodeEntries', () => {
  it('decodes good entries of both layouts, rejects bad ones with a reason, and keeps every id for the ack', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold, expectObservable }) => {
      const values = {
        a: batch([
          ['1-0', { b: 'global', u: 'ann', v: '5', t: '1000' }],
          ['1-1', { b: 'global', u: 'bob', v: 'NaN', t: '1000' }],
          ['1-2', { b: 'global', u: 'cat', v: '-2.5', t: '1001', i: 'e1' }],
          ['1-3', { b: 'Bad Board', u: 'dan', v: '1', t: '1' }],
          ['1-4', { s: `global${US}eve${US}7${US}1002` }],
          ['1-5', { s: `global${US}fay${US}3${US}1003${US}e2` }],
          ['1-6', { s: `global${US}gus${US}x${US}1004` }],
        ]),
      };
      const expected = {
        x: {
          partition: 3,
          epoch: 7,
          token: '7:c1',
          ids: ['1-0', '1-1', '1-2', '1-3', '1-4', '1-5', '1-6'],
          firstId: '1-0',
          lastId: '1-6',
          rejected: [
            { id: '1-1', reason: "value: 'NaN' is not a finite number" },
            { id: '1-3', reason: "board: 'Bad Board' is not a board id" },
            { id: '1-6', reason: "value: 'x' is not a finite number" },
          ],
          payload: {
            values: [
              { value: { board: 'global', userId: 'ann', value: 5, ts: 1000 }, entryId: '1-0' },
              {
                value: { board: 'global', userId: 'cat', value: -2.5, ts: 1001, eventId: 'e1' },
                entryId: '1-2',
              },
              { value: { board: 'global', userId: 'eve', value: 7, ts: 1002 }, entryId: '1-4' },
              {
                value: { board: 'global', userId: 'fay', value: 3, ts: 1003, eventId: 'e2' },
                entryId: '1-5',
              },
            ],
          },
        },
      };
      //                                     a--|   in
      expectObservable(cold('a--|', values).pipe(decodeEntries(scoreEventCodec))).toBe('x--|', expected);
    });
  });
});

describe('scoreEventCodec', () => {
  it('writes one field s: board, user, value, time and the eventId when there is one, joined by the unit separator', () => {
    expect(
      scoreEventCodec.encode({ board: 'global', userId: 'ann', value: 5, ts: 1_763_856_000_000 }),
    ).toEqual(['s', `global${US}ann${US}5${US}1763856000000`]);
    expect(
      scoreEventCodec.encode({ board: 'b', userId: 'u', value: -0.25, ts: 1, eventId: 'retry-1' }),
    ).toEqual(['s', `b${US}u${US}-0.25${US}1${US}retry-1`]);
  });

  it('decodes what it encodes, for any valid event (property)', () => {
    const id = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
      .filter((s) => !CONTROL_CHARACTERS.test(s));
    const event: fc.Arbitrary<ScoreEvent> = fc
      .record({
        board: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/),
        userId: id,
        value: fc.double({ noNaN: true, noDefaultInfinity: true }),
        ts: fc.integer({ min: 0, max: MAX_EVENT_TIME - 1 }),
        eventId: fc.option(id, { nil: undefined }),
      })
      .map(({ eventId, ...rest }) => (eventId === undefined ? rest : { ...rest, eventId }));
    fc.assert(
      fc.property(event, (e) => {
        const [field, value] = scoreEventCodec.encode(e);
        const decoded = decode({ [field!]: value! });
        // -0 is written as 0: the same score.
        expect(decoded).toEqual({ ok: true, value: { ...e, value: e.value === 0 ? 0 : e.value } });
      }),
    );
  });

  it('decodes the field-by-field layout, with or without an eventId, and prefers s when both are there', () => {
    expect(decode({ b: 'global', u: 'ann', v: '5', t: '1000' })).toEqual({
      ok: true,
      value: { board: 'global', userId: 'ann', value: 5, ts: 1000 },
    });
    expect(decode({ b: 'global', u: 'ann', v: '1e3', t: '1000', i: 'e1' })).toEqual({
      ok: true,
      value: { board: 'global', userId: 'ann', value: 1000, ts: 1000, eventId: 'e1' },
    });
    expect(decode({ s: `global${US}bob${US}2${US}5`, b: 'global', u: 'ann', v: '5', t: '1000' })).toEqual({
      ok: true,
      value: { board: 'global', userId: 'bob', value: 2, ts: 5 },
    });
  });

  it('rejects an entry of neither layout, and an s field of the wrong number of parts', () => {
    expect(reasonOf({})).toBe('entry: neither s nor b, u, v, t fields');
    expect(reasonOf({ b: 'global', u: 'ann', v: '5' })).toBe('entry: neither s nor b, u, v, t fields');
    expect(reasonOf({ d: '{"board":"global"}' })).toBe('entry: neither s nor b, u, v, t fields');
    for (const s of [`global${US}ann${US}5`, `global${US}ann${US}5${US}1${US}e1${US}extra`, '']) {
      expect(reasonOf({ s }), JSON.stringify(s)).toBe('s: not board, user, value, time[, eventId]');
    }
  });

  it('rejects a bad board id, user id, value, time or eventId, saying which and why', () => {
    const fields = (board: string, user: string, value: string, ts: string, eventId?: string) => ({
      s: [board, user, value, ts, ...(eventId === undefined ? [] : [eventId])].join(US),
    });
    expect(reasonOf(fields('Global', 'ann', '1', '1'))).toBe("board: 'Global' is not a board id");
    expect(reasonOf(fields('', 'ann', '1', '1'))).toBe("board: '' is not a board id");
    expect(reasonOf(fields('b'.repeat(65), 'ann', '1', '1'))).toBe(
      `board: '${'b'.repeat(65)}' is not a board id`,
    );
    const badUser = 'user id: must be 1 to 128 characters without control characters';
    for (const user of ['', 'u'.repeat(129), 'a\u0007b', 'a\u0085b', '\ud800x']) {
      expect(reasonOf(fields('b', user, '1', '1')), JSON.stringify(user)).toBe(badUser);
    }
    expect(reasonOf(fields('b', '😀'.repeat(128), '1', '1'))).toBeUndefined();
    for (const value of ['', 'NaN', 'Infinity', '-Infinity', 'five']) {
      expect(reasonOf(fields('b', 'u', value, '1'))).toBe(`value: '${value}' is not a finite number`);
    }
    for (const ts of ['', '-1', '1.5', 'now', String(MAX_EVENT_TIME), '9007199254740993']) {
      expect(reasonOf(fields('b', 'u', '1', ts))).toBe(`time: '${ts}' is not epoch milliseconds`);
    }
    expect(reasonOf(fields('b', 'u', '1', String(MAX_EVENT_TIME - 1)))).toBeUndefined();
    const badId = 'eventId: must be 1 to 128 characters without control characters';
    expect(reasonOf(fields('b', 'u', '1', '1', ''))).toBe(badId);
    expect(reasonOf(fields('b', 'u', '1', '1', 'e'.repeat(129)))).toBe(badId);
    expect(reasonOf({ b: 'b', u: 'u', v: '1', t: '1', i: 'a\nb' })).toBe(badId);
  });
});
