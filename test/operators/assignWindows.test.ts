import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { assignWindows } from '../../operators/assignWindows.js';
import type {
  BoardConfig,
  Envelope,
  ParsedPayload,
  ScoreEvent,
  WindowedPayload,
  WindowName,
  WindowRef,
} from '../../operators/types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Tuesday 2026-03-10 00:00 UTC. */
const D = Date.UTC(2026, 2, 10);

const board = (id: string, windows: WindowName[], graceSeconds: number): BoardConfig => ({
  id,
  policy: 'sum',
  order: 'desc',
  windows,
  topK: 10,
  graceSeconds,
  retentionDays: 30,
});
const BOARDS = new Map([
  ['chess', board('chess', ['all', 'day'], 60)],
  ['daily', board('daily', ['day'], 60)],
]);
const lookup = (id: string) => BOARDS.get(id);

let entry = 0;
const ev = (board: string, userId: string, ts: number): ScoreEvent => ({
  board,
  userId,
  value: 1,
  ts,
  entryId: `${++entry}-0`,
});
const batch = (partition: number, events: ScoreEvent[]): Envelope<ParsedPayload> => {
  const ids = events.map((e) => e.entryId);
  return {
    partition,
    epoch: 1,
    token: '1:c',
    rejected: [],
    ids,
    firstId: ids[0]!,
    lastId: ids.at(-1)!,
    payload: { events },
  };
};
const windowed = (
  input: Envelope<ParsedPayload>,
  payload: Partial<WindowedPayload> & { streamTime: number },
): Envelope<WindowedPayload> => ({
  ...input,
  payload: { events: [], late: [], unknownBoard: [], ...payload },
});

const ALL: WindowRef = { window: 'all', start: 0, end: Infinity };
const dayOf = (start: number): WindowRef => ({ window: 'day', start, end: start + DAY });

const testScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('assignWindows', () => {
  it("gives each event the windows its board keeps, computed from the event's own time", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const u1 = ev('chess', 'u1', D + HOUR);
      const u2 = ev('chess', 'u2', D + DAY + HOUR);
      const a = batch(0, [u1, u2]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';

      expectObservable(source.pipe(assignWindows(lookup))).toBe(expected, {
        x: windowed(a, {
          events: [
            // u1 was judged at stream time D + 1h, before u2 moved it past u1's day.
            { event: u1, windows: [ALL, dayOf(D)] },
            { event: u2, windows: [ALL, dayOf(D + DAY)] },
          ],
          streamTime: D + DAY + HOUR,
        }),
      });
    });
  });

  it('sets an event aside as late once stream time reached its window end plus grace, and keeps it within grace', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch(0, [ev('daily', 'u1', D + DAY + 59_999)]);
      const b = batch(0, [ev('daily', 'u2', D + DAY - 1)]);
      const c = batch(0, [ev('chess', 'u3', D + DAY + 60_000), ev('chess', 'u4', D + 5)]);
      const source = cold('  -a-b-c-|', { a, b, c });
      const expected = '     -x-y-z-|';
      const [u3, u4] = c.payload.events as [ScoreEvent, ScoreEvent];

      expectObservable(source.pipe(assignWindows(lookup))).toBe(expected, {
        x: windowed(a, {
          events: [{ event: a.payload.events[0]!, windows: [dayOf(D + DAY)] }],
          streamTime: D + DAY + 59_999,
        }),
        y: windowed(b, {
          events: [{ event: b.payload.events[0]!, windows: [dayOf(D)] }],
          streamTime: D + DAY + 59_999,
        }),
        z: windowed(c, {
          events: [
            { event: u3, windows: [ALL, dayOf(D + DAY)] },
            { event: u4, windows: [ALL] },
          ],
          late: [{ event: u4, window: 'day', windowStart: D, streamTime: D + DAY + 60_000 }],
          streamTime: D + DAY + 60_000,
        }),
      });
    });
  });

  it('reports an event whose every window is closed only in late', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch(0, [ev('daily', 'u1', D + 2 * DAY), ev('daily', 'u2', D + HOUR)]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';
      const [u1, u2] = a.payload.events as [ScoreEvent, ScoreEvent];

      expectObservable(source.pipe(assignWindows(lookup))).toBe(expected, {
        x: windowed(a, {
          events: [{ event: u1, windows: [dayOf(D + 2 * DAY)] }],
          late: [{ event: u2, window: 'day', windowStart: D, streamTime: D + 2 * DAY }],
          streamTime: D + 2 * DAY,
        }),
      });
    });
  });

  it("keeps stream time per partition, so one partition's progress does not make another's events late", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch(0, [ev('daily', 'u1', D + 2 * DAY)]);
      const b = batch(1, [ev('daily', 'u2', D + HOUR)]);
      const c = batch(0, [ev('daily', 'u3', D + HOUR)]);
      const source = cold('  -a-b-c-|', { a, b, c });
      const expected = '     -x-y-z-|';

      expectObservable(source.pipe(assignWindows(lookup))).toBe(expected, {
        x: windowed(a, {
          events: [{ event: a.payload.events[0]!, windows: [dayOf(D + 2 * DAY)] }],
          streamTime: D + 2 * DAY,
        }),
        y: windowed(b, {
          events: [{ event: b.payload.events[0]!, windows: [dayOf(D)] }],
          streamTime: D + HOUR,
        }),
        z: windowed(c, {
          late: [{ event: c.payload.events[0]!, window: 'day', windowStart: D, streamTime: D + 2 * DAY }],
          streamTime: D + 2 * DAY,
        }),
      });
    });
  });

  it('starts a partition from initialStreamTime, so a restarted worker judges old events as before', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch(3, [ev('daily', 'u1', D + HOUR)]);
      const source = cold('  -a-|', { a });
      const expected = '     -x-|';
      const operator = assignWindows(lookup, { initialStreamTime: (p) => (p === 3 ? D + 2 * DAY : 0) });

      expectObservable(source.pipe(operator)).toBe(expected, {
        x: windowed(a, {
          late: [{ event: a.payload.events[0]!, window: 'day', windowStart: D, streamTime: D + 2 * DAY }],
          streamTime: D + 2 * DAY,
        }),
      });
    });
  });

  it('sets events of unknown boards aside in unknownBoard without failing the stream or moving stream time', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const ghost = ev('ghost', 'u1', D + 9 * DAY);
      const a = batch(0, [ghost, ev('daily', 'u2', D + HOUR)]);
      const b = batch(0, [ev('daily', 'u3', D + 2 * HOUR)]);
      const source = cold('  -a-b-|', { a, b });
      const expected = '     -x-y-|';

      expectObservable(source.pipe(assignWindows(lookup))).toBe(expected, {
        x: windowed(a, {
          events: [{ event: a.payload.events[1]!, windows: [dayOf(D)] }],
          unknownBoard: [ghost],
          streamTime: D + HOUR,
        }),
        y: windowed(b, {
          events: [{ event: b.payload.events[0]!, windows: [dayOf(D)] }],
          streamTime: D + 2 * HOUR,
        }),
      });
    });
  });

  it('keeps separate stream time for each subscription', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = batch(0, [ev('daily', 'u1', D + 2 * DAY)]);
      const b = batch(0, [ev('daily', 'u2', D + HOUR)]);
      const first = cold('   -a-|', { a });
      const second = cold('  ---b-|', { b });
      const operator = assignWindows(lookup);

      expectObservable(first.pipe(operator)).toBe('  -x-|', {
        x: windowed(a, {
          events: [{ event: a.payload.events[0]!, windows: [dayOf(D + 2 * DAY)] }],
          streamTime: D + 2 * DAY,
        }),
      });
      expectObservable(second.pipe(operator)).toBe(' ---y-|', {
        y: windowed(b, {
          events: [{ event: b.payload.events[0]!, windows: [dayOf(D)] }],
          streamTime: D + HOUR,
        }),
      });
    });
  });
});
