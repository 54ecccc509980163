/**
 * Boards of every policy and rounds of events for them, generated from a seed, for the tests that
 * compare the real system with the reference model through faults, replays and restarts.
 */
import type { BoardConfig } from '../../leaderboard/index.js';
import type { ModelEvent } from './leaderboardModel.js';

const DAY = 86_400_000;
const MINUTE = 60_000;

/** One board per policy (and a day-only one with grace), K = 10, closed windows kept 30 days. */
export const MODEL_BOARDS: BoardConfig[] = [
  {
    id: 'points',
    policy: 'sum',
    order: 'desc',
    windows: ['all', 'day', 'week', 'month'],
    topK: 10,
    graceSeconds: 60,
    retentionDays: 30,
  },
  {
    id: 'best',
    policy: 'max',
    order: 'desc',
    windows: ['all', 'day'],
    topK: 10,
    graceSeconds: 0,
    retentionDays: 30,
  },
  {
    id: 'laps',
    policy: 'min',
    order: 'asc',
    windows: ['all', 'week'],
    topK: 10,
    graceSeconds: 0,
    retentionDays: 30,
  },
  {
    id: 'level',
    policy: 'last',
    order: 'desc',
    windows: ['all', 'day'],
    topK: 10,
    graceSeconds: 0,
    retentionDays: 30,
  },
  // No `all` window: an event can be late for every window it has, and count nowhere.
  {
    id: 'daily',
    policy: 'sum',
    order: 'desc',
    windows: ['day'],
    topK: 10,
    graceSeconds: 600,
    retentionDays: 30,
  },
];

/** A small deterministic generator (an LCG), so a failing run can be replayed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

export interface RoundsOptions {
  rounds: number;
  perRound: number;
  boards?: BoardConfig[];
  users?: number;
  /** Share of events for a board no config knows (dead letters). Default 0.03. */
  unknownBoard?: number;
  /** Event ids are `<prefix><n>`, n < 300: give disjoint prefixes to keep runs' ids apart. */
  eventIdPrefix?: string;
}

/**
 * Rounds of events: a clock walks forward from 10 days ago over several day boundaries; some
 * events are a little behind it, some days late, some for an unknown board (dead letters), some
 * repeat an eventId. Every ts is distinct, so `last` has no ties.
 */
export function generateRounds(seed: number, options: RoundsOptions): ModelEvent[][] {
  const boards = options.boards ?? MODEL_BOARDS;
  const next = random(seed);
  const pick = (n: number) => Math.floor(next() * n);
  const used = new Set<number>();
  let clock = Math.floor(Date.now() / DAY) * DAY - 10 * DAY + 20 * 3_600_000;
  return Array.from({ length: options.rounds }, () =>
    Array.from({ length: options.perRound }, () => {
      clock += pick(3) * MINUTE + 1;
      const kind = next();
      let ts = clock;
      if (kind < 0.15) ts = clock - pick(180) * MINUTE;
      else if (kind < 0.22) ts = clock - (1 + pick(4)) * DAY;
      while (used.has(ts)) ts++;
      used.add(ts);
      const board = boards[pick(boards.length)]!;
      const event: ModelEvent = {
        board: next() < (options.unknownBoard ?? 0.03) ? 'ghost' : board.id,
        userId: `user-${pick(options.users ?? 40)}`,
        value: board.policy === 'sum' ? pick(60) - 10 : pick(1000),
        ts,
      };
      if (next() < 0.25) event.eventId = `${options.eventIdPrefix ?? 'e'}${pick(300)}`;
      return event;
    }),
  );
}
