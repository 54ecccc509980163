/**
 * The aggregate stage: a batch's records folded to one update per (group, window instance,
 * member) by the group's reducer, records with a de-duplication id passed on unfolded, and, as a
 * property, updates and identified records that applied in stream order equal folding every
 * record one by one, ties included.
 */
import fc from 'fast-check';
import { of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { aggregate, inStreamOrder } from '../../operators/aggregate.js';
import { foldValue, type Scored, setsValue } from '../../operators/internal/reducers.js';
import type {
  AggregatedPayload,
  Envelope,
  GroupSpec,
  KeyedRecord,
  LateRecord,
  Reducer,
  WindowedPayload,
  WindowedRecord,
  WindowInstance,
} from '../../operators/types.js';
import { CalendarWindows, GlobalWindows } from '../../topology/windows/index.js';

const DAY = 86_400_000;
const D = Date.UTC(2026, 2, 10);
const allTime = GlobalWindows.create();
const days = CalendarWindows.day({ graceMs: 60_000 });
const instance = (definition: typeof allTime | typeof days, start: number, end: number): WindowInstance => ({
  definition,
  start,
  end,
  key: `${definition.name}:${start}`,
});
const ALL = instance(allTime, 0, Number.POSITIVE_INFINITY);
const TODAY = instance(days, D, D + DAY);
const TOMORROW = instance(days, D + DAY, D + 2 * DAY);

const spec = (reduce: Reducer): GroupSpec => ({
  reduce,
  windows: [allTime, days],
  order: 'desc',
  k: 10,
  tieBreak: 'member',
  retentionMs: 30 * DAY,
});
/** One group per reducer, named after it. */
const SPECS = Object.fromEntries(
  (['sum', 'max', 'min', 'last', 'count'] as const).map((reduce) => [reduce, spec(reduce)]),
) as Record<Reducer, GroupSpec>;

let entry = 0;
const rec = (group: Reducer, member: string, value: number, ts: number, id?: string): KeyedRecord => ({
  group,
  member,
  value,
  ts,
  entryId: `${++entry}-0`,
  spec: SPECS[group],
  ...(id === undefined ? {} : { id }),
});
const wr = (record: KeyedRecord, ...windows: WindowInstance[]): WindowedRecord => ({ record, windows });
const batch = (
  records: WindowedRecord[],
  rest: Partial<Omit<WindowedPayload, 'records'>> = {},
): Envelope<WindowedPayload> => {
  const ids = records.map((r) => r.record.entryId);
  return {
    partition: 0,
    epoch: 1,
    token: '1:c',
    rejected: [],
    ids,
    firstId: ids[0] ?? '0-0',
    lastId: ids.at(-1) ?? '0-0',
    payload: { records, late: [], streamTime: D + DAY, ...rest },
  };
};
const aggregated = (
  input: Envelope<WindowedPayload>,
  payload: Partial<AggregatedPayload>,
): Envelope<AggregatedPayload> => ({
  ...input,
  payload: {
    updates: [],
    identified: [],
    late: input.payload.late,
    streamTime: input.payload.streamTime,
    ...payload,
  },
});
const update = (
  group: Reducer,
  window: WindowInstance,
  member: string,
  value: number,
  ts: number,
  pos: number,
) => ({
  group,
  window,
  member,
  spec: SPECS[group],
  value,
  ts,
  pos,
});

const testScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('aggregate', () => {
  it('sums values per group, window instance and member in order of first occurrence, with the time and position of the last record folded in', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch([
        wr(rec('sum', 'u1', 5, D + 20), ALL, TODAY),
        wr(rec('sum', 'u2', 1, D + 30), ALL, TODAY),
        wr(rec('sum', 'u1', 3, D + 10), ALL, TODAY),
        wr(rec('sum', 'u1', 4, D + DAY), ALL, TOMORROW),
      ]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';

      expectObservable(source.pipe(aggregate())).toBe(expected, {
        x: aggregated(a, {
          updates: [
            update('sum', ALL, 'u1', 12, D + DAY, 3),
            update('sum', TODAY, 'u1', 8, D + 10, 2),
            update('sum', ALL, 'u2', 1, D + 30, 1),
            update('sum', TODAY, 'u2', 1, D + 30, 1),
            update('sum', TOMORROW, 'u1', 4, D + DAY, 3),
          ],
        }),
      });
    });
  });

  it('marks a sum of zeros as setting no score (sets: false), and not a sum whose values add up to zero', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch([
        wr(rec('sum', 'zeros', 0, D + 10), ALL),
        wr(rec('sum', 'zeros', 0, D + 20), ALL),
        wr(rec('sum', 'nets', 3, D + 30), ALL),
        wr(rec('sum', 'nets', -3, D + 40), ALL),
        wr(rec('sum', 'nets', 0, D + 50), ALL),
      ]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';

      expectObservable(source.pipe(aggregate())).toBe(expected, {
        x: aggregated(a, {
          updates: [
            { ...update('sum', ALL, 'zeros', 0, D + 10, 0), sets: false },
            // The -3 set the score on the way (the earliest tie rule goes by its time).
            update('sum', ALL, 'nets', 0, D + 40, 3),
          ],
        }),
      });
    });
  });

  it('keeps the highest value under max and the lowest under min, with the time and position of the record that reached it first', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch([
        wr(rec('max', 'u1', 5, D + 30), TODAY),
        wr(rec('min', 'u1', 5, D + 30), TODAY),
        wr(rec('max', 'u1', 9, D + 10), TODAY),
        wr(rec('min', 'u1', 9, D + 10), TODAY),
        wr(rec('max', 'u1', -2, D + 20), TODAY),
        wr(rec('min', 'u1', -2, D + 20), TODAY),
        // Equal to the extremes already reached: they set nothing.
        wr(rec('max', 'u1', 9, D + 40), TODAY),
        wr(rec('min', 'u1', -2, D + 40), TODAY),
      ]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';

      expectObservable(source.pipe(aggregate())).toBe(expected, {
        x: aggregated(a, {
          updates: [update('max', TODAY, 'u1', 9, D + 10, 2), update('min', TODAY, 'u1', -2, D + 20, 5)],
        }),
      });
    });
  });

  it('keeps the value of the greatest event time under last, and of equal times the later one in the batch', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch([
        wr(rec('last', 'u1', 10, D + 20), TODAY),
        wr(rec('last', 'u1', 20, D + 10), TODAY),
        wr(rec('last', 'u1', 30, D + 20), TODAY),
        wr(rec('last', 'u2', 7, D + 10), TODAY),
        wr(rec('last', 'u2', 8, D + 5), TODAY),
      ]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';

      expectObservable(source.pipe(aggregate())).toBe(expected, {
        x: aggregated(a, {
          updates: [update('last', TODAY, 'u1', 30, D + 20, 2), update('last', TODAY, 'u2', 7, D + 10, 3)],
        }),
      });
    });
  });

  it('counts the records under count (keyRecords gives each the value 1)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch([
        wr(rec('count', 'u1', 1, D + 20), ALL, TODAY),
        wr(rec('count', 'u1', 1, D + 10), ALL),
        wr(rec('count', 'u2', 1, D + 5), TODAY),
        wr(rec('count', 'u1', 1, D + 30), ALL, TODAY),
      ]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';

      expectObservable(source.pipe(aggregate())).toBe(expected, {
        x: aggregated(a, {
          updates: [
            update('count', ALL, 'u1', 3, D + 30, 3),
            update('count', TODAY, 'u1', 2, D + 30, 3),
            update('count', TODAY, 'u2', 1, D + 5, 2),
          ],
        }),
      });
    });
  });

  it('passes each record with a de-duplication id on unfolded, as one identified record with all its windows', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch([
        wr(rec('sum', 'u1', 5, D + 10, 'e1'), ALL, TODAY),
        wr(rec('sum', 'u1', 5, D + 10, 'e1'), ALL, TODAY),
        wr(rec('sum', 'u1', 2, D + 20), TODAY),
      ]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';
      const [first, again] = a.payload.records as [WindowedRecord, WindowedRecord];

      expectObservable(source.pipe(aggregate())).toBe(expected, {
        x: aggregated(a, {
          updates: [update('sum', TODAY, 'u1', 2, D + 20, 2)],
          identified: [
            { record: first.record, windows: [ALL, TODAY], pos: 0 },
            { record: again.record, windows: [ALL, TODAY], pos: 1 },
          ],
        }),
      });
    });
  });

  it('passes late records, rejected entries and stream time through, and leaves the batch it read as it was', () => {
    const late: LateRecord = {
      record: rec('sum', 'u9', 1, D - DAY),
      window: instance(days, D - DAY, D),
      streamTime: D,
    };
    const input = batch([wr(rec('sum', 'u3', 1, D + 6), TODAY), wr(rec('sum', 'u3', 2, D + 7), TODAY)], {
      late: [late],
      streamTime: D + 7,
    });
    input.rejected.push({ id: '0-1', reason: "unknown group 'ghost'" });
    const before = JSON.stringify(input);
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-|', { a: input }).pipe(aggregate())).toBe('-x-|', {
        x: aggregated(input, {
          updates: [update('sum', TODAY, 'u3', 3, D + 7, 1)],
          late: [late],
          streamTime: D + 7,
        }),
      });
    });
    // The input batch may still be needed (a retry): it must not be changed.
    aggregateOnce(input);
    expect(JSON.stringify(input)).toBe(before);
  });
});

/** Runs one batch through the operator, synchronously. */
function aggregateOnce(input: Envelope<WindowedPayload>): AggregatedPayload {
  let result: AggregatedPayload | undefined;
  of(input)
    .pipe(aggregate())
    .subscribe((out) => {
      result = out.payload;
    });
  return result!;
}

type State = Record<string, Scored>;
const keyOf = (group: string, window: string, member: string) => `${group}/${window}/${member}`;
/** Folds `next` onto the state as the apply script does: the value by the reducer, the time of the record that set it. */
const fold = (state: State, reduce: Reducer, key: string, next: Scored): void => {
  const current = state[key];
  state[key] =
    current === undefined
      ? { value: next.value, ts: next.ts }
      : {
          value: foldValue(reduce, current, next),
          ts: setsValue(reduce, current, next) ? next.ts : current.ts,
        };
};

/** The reference: every record folded into the state one by one, in stream order. */
function foldRecords(reduce: Reducer, records: WindowedRecord[]): State {
  const state: State = {};
  for (const { record, windows } of records) {
    for (const w of windows) fold(state, reduce, keyOf(record.group, w.key, record.member), record);
  }
  return state;
}

/** What the apply stage does with a batch: its updates and identified records, in stream order. */
function foldOutput(reduce: Reducer, out: AggregatedPayload): State {
  const state: State = {};
  for (const op of inStreamOrder(out)) {
    if ('record' in op) {
      for (const w of op.windows)
        fold(state, reduce, keyOf(op.record.group, w.key, op.record.member), op.record);
    } else {
      fold(state, reduce, keyOf(op.group, op.window.key, op.member), op);
    }
  }
  return state;
}

const windowedRecords = (reduce: Reducer, withIds: boolean) =>
  fc
    .array(
      fc.record({
        member: fc.constantFrom('u1', 'u2', 'u3'),
        // Integers keep sums exact whatever order they are added in.
        value: reduce === 'count' ? fc.constant(1) : fc.integer({ min: -1000, max: 1000 }),
        windows: fc.subarray([ALL, TODAY, TOMORROW]),
        identified: withIds ? fc.boolean() : fc.constant(false),
      }),
      { maxLength: 40 },
    )
    .chain((records) =>
      fc.tuple(
        fc.constant(records),
        // Few distinct times force ties, with and without ids.
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: records.length, maxLength: records.length }),
      ),
    )
    .map(([records, times]) =>
      records.map((r, i) =>
        wr(rec(reduce, r.member, r.value, D + times[i]!, r.identified ? `e${i}` : undefined), ...r.windows),
      ),
    );

describe.each(['sum', 'max', 'min', 'last', 'count'] as const)('aggregate under %s (property)', (reduce) => {
  it('yields updates that, folded onto empty state, equal folding every record one by one', () => {
    fc.assert(
      fc.property(windowedRecords(reduce, false), (records) => {
        const out = aggregateOnce(batch(records));
        expect(out.identified).toEqual([]);
        expect(foldOutput(reduce, out)).toEqual(foldRecords(reduce, records));
      }),
    );
  });

  it('yields updates and identified records that, applied in stream order, equal folding every record, ties included', () => {
    fc.assert(
      fc.property(windowedRecords(reduce, true), (records) => {
        const out = aggregateOnce(batch(records));
        expect(out.identified).toHaveLength(records.filter((r) => r.record.id !== undefined).length);
        expect(foldOutput(reduce, out)).toEqual(foldRecords(reduce, records));
      }),
    );
  });
});
