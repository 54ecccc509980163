import type { Batch } from 'redis-streams-consumer-groups';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { parseEvents } from '../../operators/parseEvents.js';

const batch = (entries: [string, Record<string, string>][]): Batch => ({
  partition: 3,
  stream: '{lb:3}:in',
  entries: entries.map(([id, fields]) => ({ id, fields, deliveries: 1 })),
  firstId: entries[0]![0],
  lastId: entries[entries.length - 1]![0],
  epoch: 7,
  token: '7:c1',
  redelivered: false,
});

describe('parseEvents', () => {
  it('decodes good entries, rejects bad ones with a reason, and keeps every id for the ack', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold, expectObservable }) => {
      const values = {
        a: batch([
          ['1-0', { b: 'global', u: 'ann', v: '5', t: '1000' }],
          ['1-1', { b: 'global', u: 'bob', v: 'NaN', t: '1000' }],
          ['1-2', { b: 'global', u: 'cat', v: '-2.5', t: '1001', i: 'e1' }],
          ['1-3', { b: 'Bad Board', u: 'dan', v: '1', t: '1' }],
        ]),
      };
      const expected = {
        x: {
          partition: 3,
          epoch: 7,
          token: '7:c1',
          ids: ['1-0', '1-1', '1-2', '1-3'],
          firstId: '1-0',
          lastId: '1-3',
          rejected: [
            { id: '1-1', reason: expect.stringMatching(/^v: /) },
            { id: '1-3', reason: expect.stringContaining('b: board id must match') },
          ],
          payload: {
            events: [
              { board: 'global', userId: 'ann', value: 5, ts: 1000, entryId: '1-0' },
              { board: 'global', userId: 'cat', value: -2.5, ts: 1001, eventId: 'e1', entryId: '1-2' },
            ],
          },
        },
      };
      //                                     a--|   in
      expectObservable(cold('a--|', values).pipe(parseEvents())).toBe('x--|', expected);
    });
  });
});
