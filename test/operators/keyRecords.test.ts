/**
 * The key stage: decoded records keyed by group, member, value, event time and id, with their
 * group's spec; records of an unknown group, or with a value or time that is not a number, set
 * aside as rejected with a reason that names what is wrong.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { keyRecords } from '../../operators/keyRecords.js';
import type { DecodedPayload, Envelope, GroupSpec, KeyedPayload } from '../../operators/types.js';
import { GlobalWindows } from '../../topology/windows/index.js';

interface Play {
  game: string;
  player: string;
  points: number;
  at: number;
  playId?: string;
}

const spec = (reduce: GroupSpec['reduce']): GroupSpec => ({
  reduce,
  windows: [GlobalWindows.create()],
  order: 'desc',
  k: 10,
  tieBreak: 'member',
  retentionMs: 86_400_000,
});
const SPECS: Record<string, GroupSpec> = { chess: spec('sum'), go: spec('count') };

const decoded = (values: Play[], watermark?: number): Envelope<DecodedPayload<Play>> => {
  const ids = values.map((_, i) => `1-${i}`);
  return {
    partition: 0,
    epoch: 1,
    token: '1:c',
    rejected: [{ id: '0-9', reason: 'd: not JSON (earlier)' }],
    ids,
    firstId: ids[0]!,
    lastId: ids.at(-1)!,
    payload: {
      values: values.map((value, i) => ({ value, entryId: ids[i]! })),
      ...(watermark === undefined ? {} : { watermark }),
    },
  };
};
const stage = (noun?: string) =>
  keyRecords<Play>({
    group: (p) => p.game,
    member: (p) => p.player,
    value: (p) => p.points,
    time: (p) => p.at,
    id: (p) => p.playId,
    groups: (id) => SPECS[id],
    ...(noun === undefined ? {} : { groupNoun: noun }),
  });
const testScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('keyRecords', () => {
  it('keys each record with its group’s spec, its id when it has one, and 1 as the value under count', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = decoded(
        [
          { game: 'chess', player: 'ann', points: 5, at: 1000 },
          { game: 'chess', player: 'bob', points: -2.5, at: 1001, playId: 'p1' },
          { game: 'go', player: 'cat', points: 40, at: 1002 },
        ],
        9000,
      );
      const expected: Envelope<KeyedPayload> = {
        ...a,
        payload: {
          records: [
            { group: 'chess', member: 'ann', value: 5, ts: 1000, entryId: '1-0', spec: SPECS.chess! },
            {
              group: 'chess',
              member: 'bob',
              value: -2.5,
              ts: 1001,
              entryId: '1-1',
              spec: SPECS.chess!,
              id: 'p1',
            },
            { group: 'go', member: 'cat', value: 1, ts: 1002, entryId: '1-2', spec: SPECS.go! },
          ],
          watermark: 9000,
        },
      };
      expectObservable(cold('-a-|', { a }).pipe(stage())).toBe('-x-|', { x: expected });
    });
  });

  it('rejects records of an unknown group, naming it with the group noun, and values and times that are not numbers', () => {
    const a = decoded([
      { game: 'ghost', player: 'ann', points: 1, at: 1 },
      { game: 'chess', player: 'bob', points: Number.NaN, at: 1 },
      { game: 'chess', player: 'cat', points: Number.POSITIVE_INFINITY, at: 1 },
      { game: 'chess', player: 'dan', points: 1, at: -1 },
      { game: 'chess', player: 'eve', points: 1, at: 1.5 },
      { game: 'chess', player: 'fay', points: 3, at: 2 },
    ]);
    const rejectedBefore = [...a.rejected];
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-|', { a }).pipe(stage('board'))).toBe('-x-|', {
        x: {
          ...a,
          rejected: [
            ...rejectedBefore,
            { id: '1-0', reason: "unknown board 'ghost'" },
            { id: '1-1', reason: 'value: not a finite number (NaN)' },
            { id: '1-2', reason: 'value: not a finite number (Infinity)' },
            { id: '1-3', reason: 'time: not a non-negative integer of epoch ms (-1)' },
            { id: '1-4', reason: 'time: not a non-negative integer of epoch ms (1.5)' },
          ],
          payload: {
            records: [{ group: 'chess', member: 'fay', value: 3, ts: 2, entryId: '1-5', spec: SPECS.chess! }],
          },
        },
      });
    });
    // The input batch may still be needed (a retry): its rejected list is not changed.
    expect(a.rejected).toEqual(rejectedBefore);
  });

  it('calls an unknown group a group by default', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = decoded([{ game: 'ghost', player: 'ann', points: 1, at: 1 }]);
      expectObservable(cold('-a-|', { a }).pipe(stage())).toBe('-x-|', {
        x: expect.objectContaining({
          rejected: [...a.rejected, { id: '1-0', reason: "unknown group 'ghost'" }],
          payload: { records: [] },
        }),
      });
    });
  });
});
