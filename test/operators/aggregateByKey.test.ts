import fc from 'fast-check';
import { of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { aggregateByKey, inStreamOrder } from '../../operators/aggregateByKey.js';
import { combine, type Scored } from '../../operators/internal/policies.js';
import type {
  AggregatedPayload,
  BoardConfig,
  Envelope,
  IdentifiedEvent,
  LateEvent,
  Policy,
  ScoreEvent,
  WindowedEvent,
  WindowedPayload,
  WindowRef,
} from '../../operators/types.js';

const DAY = 86_400_000;
const D = Date.UTC(2026, 2, 10);
const ALL: WindowRef = { window: 'all', start: 0, end: Infinity };
const TODAY: WindowRef = { window: 'day', start: D, end: D + DAY };
const TOMORROW: WindowRef = { window: 'day', start: D + DAY, end: D + 2 * DAY };

const board = (id: string, policy: Policy): BoardConfig => ({
  id,
  policy,
  order: 'desc',
  windows: ['all', 'day'],
  topK: 10,
  graceSeconds: 60,
  retentionDays: 30,
});
const BOARDS = new Map<string, BoardConfig>(
  (['sum', 'max', 'min', 'last'] as const).map((policy) => [policy, board(policy, policy)]),
);
const lookup = (id: string) => BOARDS.get(id);

let entry = 0;
const ev = (board: string, userId: string, value: number, ts: number, eventId?: string): ScoreEvent => ({
  board,
  userId,
  value,
  ts,
  entryId: `${++entry}-0`,
  ...(eventId === undefined ? {} : { eventId }),
});
const we = (event: ScoreEvent, ...windows: WindowRef[]): WindowedEvent => ({ event, windows });
const batch = (
  events: WindowedEvent[],
  rest: Partial<Omit<WindowedPayload, 'events'>> = {},
): Envelope<WindowedPayload> => {
  const ids = events.map((e) => e.event.entryId);
  return {
    partition: 0,
    epoch: 1,
    token: '1:c',
    rejected: [],
    ids,
    firstId: ids[0] ?? '0-0',
    lastId: ids.at(-1) ?? '0-0',
    payload: { events, late: [], unknownBoard: [], streamTime: D + DAY, ...rest },
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
    unknownBoard: input.payload.unknownBoard,
    streamTime: input.payload.streamTime,
    ...payload,
  },
});

const testScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('aggregateByKey', () => {
  it('sums deltas per board, window and user, keeping the latest event time, in order of first occurrence', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch([
        we(ev('sum', 'u1', 5, D + 20), ALL, TODAY),
        we(ev('sum', 'u2', 1, D + 30), ALL, TODAY),
        we(ev('sum', 'u1', 3, D + 10), ALL, TODAY),
        we(ev('sum', 'u1', 4, D + DAY), ALL, TOMORROW),
      ]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';
      const sum = { board: 'sum', policy: 'sum' } as const;

      expectObservable(source.pipe(aggregateByKey(lookup))).toBe(expected, {
        x: aggregated(a, {
          updates: [
            { ...sum, window: 'all', windowStart: 0, userId: 'u1', value: 12, ts: D + DAY, pos: 3 },
            { ...sum, window: 'day', windowStart: D, userId: 'u1', value: 8, ts: D + 20, pos: 2 },
            { ...sum, window: 'all', windowStart: 0, userId: 'u2', value: 1, ts: D + 30, pos: 1 },
            { ...sum, window: 'day', windowStart: D, userId: 'u2', value: 1, ts: D + 30, pos: 1 },
            { ...sum, window: 'day', windowStart: D + DAY, userId: 'u1', value: 4, ts: D + DAY, pos: 3 },
          ],
        }),
      });
    });
  });

  it('keeps the highest value under max and the lowest under min, with the latest event time', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch([
        we(ev('max', 'u1', 5, D + 30), TODAY),
        we(ev('min', 'u1', 5, D + 30), TODAY),
        we(ev('max', 'u1', 9, D + 10), TODAY),
        we(ev('min', 'u1', 9, D + 10), TODAY),
        we(ev('max', 'u1', -2, D + 20), TODAY),
        we(ev('min', 'u1', -2, D + 20), TODAY),
      ]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';
      const today = { window: 'day', windowStart: D, userId: 'u1' } as const;

      expectObservable(source.pipe(aggregateByKey(lookup))).toBe(expected, {
        x: aggregated(a, {
          updates: [
            { ...today, board: 'max', policy: 'max', value: 9, ts: D + 30, pos: 4 },
            { ...today, board: 'min', policy: 'min', value: -2, ts: D + 30, pos: 5 },
          ],
        }),
      });
    });
  });

  it('keeps the value of the greatest event time under last, and of equal times the later one in the batch', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch([
        we(ev('last', 'u1', 10, D + 20), TODAY),
        we(ev('last', 'u1', 20, D + 10), TODAY),
        we(ev('last', 'u1', 30, D + 20), TODAY),
        we(ev('last', 'u2', 7, D + 10), TODAY),
        we(ev('last', 'u2', 8, D + 5), TODAY),
      ]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';
      const last = { board: 'last', policy: 'last', window: 'day', windowStart: D } as const;

      expectObservable(source.pipe(aggregateByKey(lookup))).toBe(expected, {
        x: aggregated(a, {
          updates: [
            { ...last, userId: 'u1', value: 30, ts: D + 20, pos: 2 },
            { ...last, userId: 'u2', value: 7, ts: D + 10, pos: 3 },
          ],
        }),
      });
    });
  });

  it('passes each event with an eventId on unfolded, as one identified event with all its windows', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch([
        we(ev('sum', 'u1', 5, D + 10, 'e1'), ALL, TODAY),
        we(ev('sum', 'u1', 5, D + 10, 'e1'), ALL, TODAY),
        we(ev('sum', 'u1', 2, D + 20), TODAY),
      ]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';
      const e1: IdentifiedEvent = {
        board: 'sum',
        eventId: 'e1',
        userId: 'u1',
        policy: 'sum',
        value: 5,
        ts: D + 10,
        entryId: a.payload.events[0]!.event.entryId,
        pos: 0,
        windows: [
          { window: 'all', windowStart: 0 },
          { window: 'day', windowStart: D },
        ],
      };
      const e1Again = { ...e1, entryId: a.payload.events[1]!.event.entryId, pos: 1 };
      const sum = { board: 'sum', policy: 'sum' } as const;

      expectObservable(source.pipe(aggregateByKey(lookup))).toBe(expected, {
        x: aggregated(a, {
          updates: [{ ...sum, window: 'day', windowStart: D, userId: 'u1', value: 2, ts: D + 20, pos: 2 }],
          identified: [e1, e1Again],
        }),
      });
    });
  });

  it('passes late events, unknown-board events and stream time through, and sets aside events whose board is gone', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const late: LateEvent = {
        event: ev('sum', 'u9', 1, D - DAY),
        window: 'day',
        windowStart: D - DAY,
        streamTime: D,
      };
      const ghost = ev('ghost', 'u1', 1, D);
      const gone = ev('gone', 'u2', 1, D + 5);
      const a = batch([we(gone, TODAY), we(ev('sum', 'u3', 1, D + 6), TODAY)], {
        late: [late],
        unknownBoard: [ghost],
        streamTime: D + 6,
      });
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';

      expectObservable(source.pipe(aggregateByKey(lookup))).toBe(expected, {
        x: aggregated(a, {
          updates: [
            {
              board: 'sum',
              policy: 'sum',
              window: 'day',
              windowStart: D,
              userId: 'u3',
              value: 1,
              ts: D + 6,
              pos: 1,
            },
          ],
          late: [late],
          unknownBoard: [ghost, gone],
          streamTime: D + 6,
        }),
      });
    });
    // The input batch may still be needed (a retry): it must not be changed.
    const a = batch([we(ev('gone', 'u2', 1, D), TODAY)], { unknownBoard: [ev('ghost', 'u1', 1, D)] });
    aggregateOnce(a);
    expect(a.payload.unknownBoard).toHaveLength(1);
  });
});

/** Runs one batch through the operator, synchronously. */
function aggregateOnce(input: Envelope<WindowedPayload>): AggregatedPayload {
  let result: AggregatedPayload | undefined;
  of(input)
    .pipe(aggregateByKey(lookup))
    .subscribe((out) => {
      result = out.payload;
    });
  return result!;
}

type State = Record<string, Scored>;
const keyOf = (board: string, window: string, start: number, userId: string) =>
  `${board}/${window}/${start}/${userId}`;
const fold = (state: State, policy: Policy, key: string, next: Scored): void => {
  const current = state[key];
  state[key] = current === undefined ? { value: next.value, ts: next.ts } : combine(policy, current, next);
};

/** The reference: every event folded into the state one by one, in stream order. */
function foldEvents(policy: Policy, events: WindowedEvent[]): State {
  const state: State = {};
  for (const { event, windows } of events) {
    for (const w of windows) fold(state, policy, keyOf(event.board, w.window, w.start, event.userId), event);
  }
  return state;
}

/** What the apply stage does with a batch: its updates and identified events, in stream order. */
function foldOutput(out: AggregatedPayload): State {
  const state: State = {};
  for (const op of inStreamOrder(out)) {
    if ('eventId' in op) {
      for (const w of op.windows)
        fold(state, op.policy, keyOf(op.board, w.window, w.windowStart, op.userId), op);
    } else {
      fold(state, op.policy, keyOf(op.board, op.window, op.windowStart, op.userId), op);
    }
  }
  return state;
}

const windowedEvents = (policy: Policy, withEventIds: boolean) =>
  fc
    .array(
      fc.record({
        userId: fc.constantFrom('u1', 'u2', 'u3'),
        // Integers keep sums exact whatever order they are added in.
        value: fc.integer({ min: -1000, max: 1000 }),
        windows: fc.subarray([ALL, TODAY, TOMORROW]),
        identified: withEventIds ? fc.boolean() : fc.constant(false),
      }),
      { maxLength: 40 },
    )
    .chain((records) =>
      fc.tuple(
        fc.constant(records),
        // Few distinct times force ties, with and without event ids.
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: records.length, maxLength: records.length }),
      ),
    )
    .map(([records, times]) =>
      records.map((r, i) =>
        we(ev(policy, r.userId, r.value, D + times[i]!, r.identified ? `e${i}` : undefined), ...r.windows),
      ),
    );

describe.each(['sum', 'max', 'min', 'last'] as const)('aggregateByKey under %s (property)', (policy) => {
  it('yields updates that, folded onto empty state, equal folding every event one by one', () => {
    fc.assert(
      fc.property(windowedEvents(policy, false), (events) => {
        const out = aggregateOnce(batch(events));
        expect(out.identified).toEqual([]);
        expect(foldOutput(out)).toEqual(foldEvents(policy, events));
      }),
    );
  });

  it('yields updates and identified events that, applied in stream order, equal folding every event, ties included', () => {
    fc.assert(
      fc.property(windowedEvents(policy, true), (events) => {
        const out = aggregateOnce(batch(events));
        expect(out.identified).toHaveLength(events.filter((e) => e.event.eventId !== undefined).length);
        expect(foldOutput(out)).toEqual(foldEvents(policy, events));
      }),
    );
  });
});
