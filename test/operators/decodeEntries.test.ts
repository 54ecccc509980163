/**
 * The decode stage: every entry of a batch decoded by the pipeline's codec, the ones that do not
 * decode set aside as rejected with the codec's reason, watermark entries read as the batch's
 * watermark, and every entry id kept for the acknowledgement.
 */
import { type Batch, partitionKeys } from 'redis-streams-consumer-groups';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jsonCodec, WATERMARK_FIELD } from '../../operators/codec.js';
import { decodeEntries } from '../../operators/decodeEntries.js';

const batch = (entries: [string, Record<string, string>][]): Batch => ({
  partition: 3,
  stream: partitionKeys('t', 3).stream,
  entries: entries.map(([id, fields]) => ({ id, fields, deliveries: 1 })),
  firstId: entries[0]![0],
  lastId: entries[entries.length - 1]![0],
  epoch: 7,
  token: '7:c1',
  redelivered: false,
});

const Play = z.object({ player: z.string().min(1), points: z.number().int() });
const codec = jsonCodec(Play);
const testScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('decodeEntries', () => {
  it('decodes good entries, rejects bad ones with the codec’s reason, and keeps every id for the ack', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const values = {
        a: batch([
          ['1-0', { d: JSON.stringify({ player: 'ann', points: 5 }) }],
          ['1-1', { d: '{"player": "bob", "points": 2.5}' }],
          ['1-2', { d: JSON.stringify({ player: 'cat', points: -3 }) }],
          ['1-3', { d: '{not json' }],
          ['1-4', { x: 'no d' }],
          ['1-5', { d: JSON.stringify({ player: '', points: 1 }) }],
        ]),
      };
      const expected = {
        x: {
          partition: 3,
          epoch: 7,
          token: '7:c1',
          ids: ['1-0', '1-1', '1-2', '1-3', '1-4', '1-5'],
          firstId: '1-0',
          lastId: '1-5',
          rejected: [
            { id: '1-1', reason: 'points: Invalid input: expected int, received number' },
            { id: '1-3', reason: expect.stringMatching(/^d: not JSON \(/) },
            { id: '1-4', reason: 'entry: no field d (a JSON record)' },
            { id: '1-5', reason: 'player: Too small: expected string to have >=1 characters' },
          ],
          payload: {
            values: [
              { value: { player: 'ann', points: 5 }, entryId: '1-0' },
              { value: { player: 'cat', points: -3 }, entryId: '1-2' },
            ],
          },
        },
      };
      expectObservable(cold('a--|', values).pipe(decodeEntries(codec))).toBe('x--|', expected);
    });
  });

  it('reads watermark entries as the batch’s greatest watermark, not as records, and rejects a bad one', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch([
        ['2-0', { [WATERMARK_FIELD]: '5000' }],
        ['2-1', { d: JSON.stringify({ player: 'ann', points: 1 }) }],
        ['2-2', { [WATERMARK_FIELD]: '3000' }],
        ['2-3', { [WATERMARK_FIELD]: '-1' }],
        ['2-4', { [WATERMARK_FIELD]: 'soon' }],
      ]);
      const b = batch([['3-0', { d: JSON.stringify({ player: 'bob', points: 2 }) }]]);
      expectObservable(cold('-a-b-|', { a, b }).pipe(decodeEntries(codec))).toBe('-x-y-|', {
        x: expect.objectContaining({
          ids: ['2-0', '2-1', '2-2', '2-3', '2-4'],
          rejected: [
            { id: '2-3', reason: `${WATERMARK_FIELD}: not epoch ms (-1)` },
            { id: '2-4', reason: `${WATERMARK_FIELD}: not epoch ms (soon)` },
          ],
          payload: { values: [{ value: { player: 'ann', points: 1 }, entryId: '2-1' }], watermark: 5000 },
        }),
        // A batch without a watermark entry has none.
        y: expect.objectContaining({
          rejected: [],
          payload: { values: [{ value: { player: 'bob', points: 2 }, entryId: '3-0' }] },
        }),
      });
    });
  });
});

describe('jsonCodec', () => {
  it('writes a record as one JSON field that decodes back to it', () => {
    const record = { player: 'ann', points: 7 };
    const fields = codec.encode(record);
    expect(fields).toEqual(['d', '{"player":"ann","points":7}']);
    expect(codec.decode({ [fields[0]!]: fields[1]! })).toEqual({ ok: true, value: record });
  });
});
