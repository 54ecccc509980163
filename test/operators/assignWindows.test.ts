/**
 * The windows stage: each record gets the instances of its group's windows that hold its event
 * time and are still open by the partition's stream time; the others are set aside as late.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { assignWindows } from '../../operators/assignWindows.js';
import { keyRecords } from '../../operators/keyRecords.js';
import type {
  DecodedPayload,
  Envelope,
  GroupSpec,
  KeyedPayload,
  KeyedRecord,
  LateRecord,
  WindowedPayload,
  WindowedRecord,
  WindowInstance,
} from '../../operators/types.js';
import type { WindowDefinition } from '../../operators/windowing.js';
import { CalendarWindows, GlobalWindows } from '../../topology/windows/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Tuesday 2026-03-10 00:00 UTC. */
const D = Date.UTC(2026, 2, 10);

const allTime = GlobalWindows.create();
const days = CalendarWindows.day({ graceMs: 60_000 });
const group = (windows: WindowDefinition[]): GroupSpec => ({
  reduce: 'sum',
  windows,
  order: 'desc',
  k: 10,
  tieBreak: 'member',
  retentionMs: 30 * DAY,
});
const SPECS: Record<string, GroupSpec> = {
  chess: group([allTime, days]),
  daily: group([days]),
};

let entry = 0;
const rec = (groupId: string, member: string, ts: number): KeyedRecord => ({
  group: groupId,
  member,
  value: 1,
  ts,
  entryId: `${++entry}-0`,
  spec: SPECS[groupId]!,
});
const envelope = <P>(partition: number, ids: string[], payload: P, epoch = 1): Envelope<P> => ({
  partition,
  epoch,
  token: `${epoch}:c`,
  rejected: [],
  ids,
  firstId: ids[0]!,
  lastId: ids.at(-1)!,
  payload,
});
const batch = (partition: number, records: KeyedRecord[], epoch = 1): Envelope<KeyedPayload> =>
  envelope(
    partition,
    records.map((r) => r.entryId),
    { records },
    epoch,
  );
const windowed = (
  input: Envelope<unknown>,
  payload: { records?: WindowedRecord[]; late?: LateRecord[]; streamTime: number },
): Envelope<WindowedPayload> => ({
  ...input,
  payload: { records: [], late: [], ...payload },
});

const ALL: WindowInstance = { definition: allTime, start: 0, end: Number.POSITIVE_INFINITY, key: 'all:0' };
const dayOf = (start: number): WindowInstance => ({
  definition: days,
  start,
  end: start + DAY,
  key: `day:${start}`,
});

const testScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('assignWindows', () => {
  it("gives each record the windows its group keeps, computed from the record's own time", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const u1 = rec('chess', 'u1', D + HOUR);
      const u2 = rec('chess', 'u2', D + DAY + HOUR);
      const a = batch(0, [u1, u2]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';

      expectObservable(source.pipe(assignWindows())).toBe(expected, {
        x: windowed(a, {
          records: [
            // u1 was judged at stream time D + 1h, before u2 moved it past u1's day.
            { record: u1, windows: [ALL, dayOf(D)] },
            { record: u2, windows: [ALL, dayOf(D + DAY)] },
          ],
          streamTime: D + DAY + HOUR,
        }),
      });
    });
  });

  it('sets a record aside as late once stream time reached its window end plus grace, and keeps it within grace', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch(0, [rec('daily', 'u1', D + DAY + 59_999)]);
      const b = batch(0, [rec('daily', 'u2', D + DAY - 1)]);
      const c = batch(0, [rec('chess', 'u3', D + DAY + 60_000), rec('chess', 'u4', D + 5)]);
      const source = cold('  -a-b-c-|', { a, b, c });
      const expected = '     -x-y-z-|';
      const [u3, u4] = c.payload.records as [KeyedRecord, KeyedRecord];

      expectObservable(source.pipe(assignWindows())).toBe(expected, {
        x: windowed(a, {
          records: [{ record: a.payload.records[0]!, windows: [dayOf(D + DAY)] }],
          streamTime: D + DAY + 59_999,
        }),
        y: windowed(b, {
          records: [{ record: b.payload.records[0]!, windows: [dayOf(D)] }],
          streamTime: D + DAY + 59_999,
        }),
        z: windowed(c, {
          records: [
            { record: u3, windows: [ALL, dayOf(D + DAY)] },
            { record: u4, windows: [ALL] },
          ],
          late: [{ record: u4, window: dayOf(D), streamTime: D + DAY + 60_000 }],
          streamTime: D + DAY + 60_000,
        }),
      });
    });
  });

  it('reports a record whose every window is closed only in late', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch(0, [rec('daily', 'u1', D + 2 * DAY), rec('daily', 'u2', D + HOUR)]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';
      const [u1, u2] = a.payload.records as [KeyedRecord, KeyedRecord];

      expectObservable(source.pipe(assignWindows())).toBe(expected, {
        x: windowed(a, {
          records: [{ record: u1, windows: [dayOf(D + 2 * DAY)] }],
          late: [{ record: u2, window: dayOf(D), streamTime: D + 2 * DAY }],
          streamTime: D + 2 * DAY,
        }),
      });
    });
  });

  it("keeps stream time per partition, so one partition's progress does not make another's records late", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch(0, [rec('daily', 'u1', D + 2 * DAY)]);
      const b = batch(1, [rec('daily', 'u2', D + HOUR)]);
      const c = batch(0, [rec('daily', 'u3', D + HOUR)]);
      const source = cold('  -a-b-c-|', { a, b, c });
      const expected = '     -x-y-z-|';

      expectObservable(source.pipe(assignWindows())).toBe(expected, {
        x: windowed(a, {
          records: [{ record: a.payload.records[0]!, windows: [dayOf(D + 2 * DAY)] }],
          streamTime: D + 2 * DAY,
        }),
        y: windowed(b, {
          records: [{ record: b.payload.records[0]!, windows: [dayOf(D)] }],
          streamTime: D + HOUR,
        }),
        z: windowed(c, {
          late: [{ record: c.payload.records[0]!, window: dayOf(D), streamTime: D + 2 * DAY }],
          streamTime: D + 2 * DAY,
        }),
      });
    });
  });

  it('starts a partition from initialStreamTime, so a restarted worker judges old records as before', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch(3, [rec('daily', 'u1', D + HOUR)]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';
      const operator = assignWindows({ initialStreamTime: (p) => (p === 3 ? D + 2 * DAY : 0) });

      expectObservable(source.pipe(operator)).toBe(expected, {
        x: windowed(a, {
          late: [{ record: a.payload.records[0]!, window: dayOf(D), streamTime: D + 2 * DAY }],
          streamTime: D + 2 * DAY,
        }),
      });
    });
  });

  it('asks initialStreamTime again when a batch of the partition comes under another lease epoch', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      // Epoch 1 moved stream time to D + 2 days; epoch 2 (another owner's checkpoint) says D + 3h.
      const a = batch(0, [rec('daily', 'u1', D + 2 * DAY)], 1);
      const b = batch(0, [rec('daily', 'u2', D + HOUR)], 2);
      const source = cold('  -a-b-|', { a, b });
      const operator = assignWindows({ initialStreamTime: () => D + 3 * HOUR });

      expectObservable(source.pipe(operator)).toBe('     -x-y-|', {
        x: windowed(a, {
          records: [{ record: a.payload.records[0]!, windows: [dayOf(D + 2 * DAY)] }],
          streamTime: D + 2 * DAY,
        }),
        y: windowed(b, {
          records: [{ record: b.payload.records[0]!, windows: [dayOf(D)] }],
          streamTime: D + 3 * HOUR,
        }),
      });
    });
  });

  it('moves stream time to a batch watermark after its records', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const u1 = rec('daily', 'u1', D + HOUR);
      const a = envelope(0, [u1.entryId, '99-0'], { records: [u1], watermark: D + 2 * DAY });
      const b = batch(0, [rec('daily', 'u2', D + 2 * HOUR)]);
      expectObservable(cold('-a-b-|', { a, b }).pipe(assignWindows())).toBe('-x-y-|', {
        x: windowed(a, { records: [{ record: u1, windows: [dayOf(D)] }], streamTime: D + 2 * DAY }),
        y: windowed(b, {
          late: [{ record: b.payload.records[0]!, window: dayOf(D), streamTime: D + 2 * DAY }],
          streamTime: D + 2 * DAY,
        }),
      });
    });
  });

  it('never sees records of unknown groups (keyRecords rejects them), so they do not move stream time', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      type Raw = { group: string; member: string; ts: number };
      const decoded = (id: string, values: Raw[]): Envelope<DecodedPayload<Raw>> =>
        envelope(
          0,
          values.map((_, i) => `${id}-${i}`),
          { values: values.map((value, i) => ({ value, entryId: `${id}-${i}` })) },
        );
      const a = decoded('1', [
        { group: 'ghost', member: 'u1', ts: D + 9 * DAY },
        { group: 'daily', member: 'u2', ts: D + HOUR },
      ]);
      const b = decoded('2', [{ group: 'daily', member: 'u3', ts: D + 2 * HOUR }]);
      const stages = keyRecords<Raw>({
        group: (r) => r.group,
        member: (r) => r.member,
        value: () => 1,
        time: (r) => r.ts,
        groups: (id) => SPECS[id],
        groupNoun: 'board',
      });
      const keyed = (member: string, ts: number, entryId: string): KeyedRecord => ({
        group: 'daily',
        member,
        value: 1,
        ts,
        entryId,
        spec: SPECS.daily!,
      });

      expectObservable(cold('-a-b-|', { a, b }).pipe(stages, assignWindows())).toBe('-x-y-|', {
        x: {
          ...windowed(a, {
            records: [{ record: keyed('u2', D + HOUR, '1-1'), windows: [dayOf(D)] }],
            streamTime: D + HOUR,
          }),
          rejected: [{ id: '1-0', reason: "unknown board 'ghost'" }],
        },
        y: windowed(b, {
          records: [{ record: keyed('u3', D + 2 * HOUR, '2-0'), windows: [dayOf(D)] }],
          streamTime: D + 2 * HOUR,
        }),
      });
    });
  });

  it('keeps separate stream time for each subscription', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch(0, [rec('daily', 'u1', D + 2 * DAY)]);
      const b = batch(0, [rec('daily', 'u2', D + HOUR)]);
      const first = cold('   -a-|', { a });
      const second = cold('  ---b-|', { b });
      const operator = assignWindows();

      expectObservable(first.pipe(operator)).toBe('  -x-|', {
        x: windowed(a, {
          records: [{ record: a.payload.records[0]!, windows: [dayOf(D + 2 * DAY)] }],
          streamTime: D + 2 * DAY,
        }),
      });
      expectObservable(second.pipe(operator)).toBe(' ---y-|', {
        y: windowed(b, {
          records: [{ record: b.payload.records[0]!, windows: [dayOf(D)] }],
          streamTime: D + HOUR,
        }),
      });
    });
  });
});
