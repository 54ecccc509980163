/**
 * A reference model of the leaderboard, written plainly: events folded one by one, in each
 * partition's order, by the rules of DESIGN.md and API.md. Tests compare the real system to it.
 *
 * Board options: window instances follow the board's time zone; the tie rule `first` ranks equal
 * scores by the event time of the event that set each user's current score (earlier first), then
 * by user id bytes, with unique ranks; hidden users keep counting but are left out of every read.
 */
import { partitionFor } from 'redis-streams-consumer-groups';
import type { BoardConfig } from '../../leaderboard/index.js';
import { windowDefinition } from '../../topology/windows/index.js';

type Order = 'desc' | 'asc';

/** A user's score in a window instance, with the event times the rules need. */
export interface ModelScore {
  score: number;
  /** `last`: the event time of the current value; otherwise the latest event time folded in. */
  ts: number;
  /** The event time of the event that set the current score (the `first` tie rule). */
  setAt: number;
}

/** One row of a ranking. */
export interface ModelEntry {
  rank: number;
  userId: string;
  score: number;
}

/** A user's standing, as `GET /v1/boards/:board/users/:userId` answers it. */
export interface ModelStanding extends ModelEntry {
  total: number;
  percentile: number;
}

/**
 * The instance of a board's window holding `ts`, in the board's time zone: `key` is
 * `<window>:<start>`.
 */
export function modelWindow(
  board: BoardConfig,
  window: string,
  ts: number,
): { key: string; start: number; end: number } {
  const instance = windowDefinition(window, {
    timeZone: board.timeZone ?? 'UTC',
    graceMs: board.graceSeconds * 1000,
  }).windowAt(ts);
  return { key: `${window}:${instance.start}`, start: instance.start, end: instance.end };
}

export interface ModelEvent {
  board: string;
  userId: string;
  value: number;
  ts: number;
  eventId?: string;
}

const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export class LeaderboardModel {
  /** board -> window key -> user -> score */
  readonly scores = new Map<string, Map<string, Map<string, ModelScore>>>();
  readonly late: ModelEvent[] = [];
  readonly unknown: ModelEvent[] = [];
  /** board -> its hidden users */
  readonly hidden = new Map<string, Set<string>>();
  private readonly streamTime = new Map<number, number>();
  private readonly seenIds = new Set<string>();

  constructor(
    private readonly boards: Map<string, BoardConfig>,
    private readonly partitions: number,
  ) {}

  /** Applies events in the order the system's partitions see them (the order they were appended). */
  apply(events: readonly ModelEvent[]): void {
    for (const event of events) this.applyOne(event);
  }

  /** Hides a user of a board: left out of every read from now on; their events keep counting. */
  hide(board: string, userId: string): void {
    const set = this.hidden.get(board) ?? new Set<string>();
    set.add(userId);
    this.hidden.set(board, set);
  }

  /** Shows a hidden user again, at their current score. */
  show(board: string, userId: string): void {
    this.hidden.get(board)?.delete(userId);
  }

  isHidden(board: string, userId: string): boolean {
    return this.hidden.get(board)?.has(userId) ?? false;
  }

  private applyOne(event: ModelEvent): void {
    const board = this.boards.get(event.board);
    if (!board) {
      this.unknown.push(event);
      return;
    }
    const partition = partitionFor(event.userId, this.partitions);
    const streamTime = Math.max(this.streamTime.get(partition) ?? 0, event.ts);
    this.streamTime.set(partition, streamTime);
    const open = board.windows
      .map((w) => modelWindow(board, w, event.ts))
      .filter((ref) => !Number.isFinite(ref.end) || streamTime < ref.end + board.graceSeconds * 1000);
    if (open.length < board.windows.length) this.late.push(event);
    if (open.length === 0) return;
    if (event.eventId !== undefined) {
      const key = `${event.board}/${event.userId}/${event.eventId}`;
      if (this.seenIds.has(key)) return;
      this.seenIds.add(key);
    }
    for (const ref of open) {
      const users = this.users(event.board, ref.key);
      const current = users.get(event.userId);
      users.set(event.userId, fold(board, current, event));
    }
  }

  /** Every user's score in a window instance, hidden users included. */
  users(board: string, windowKey: string): Map<string, ModelScore> {
    const windows = this.scores.get(board) ?? new Map<string, Map<string, ModelScore>>();
    this.scores.set(board, windows);
    const users = windows.get(windowKey) ?? new Map<string, ModelScore>();
    windows.set(windowKey, users);
    return users;
  }

  /** Every visible user's score in a window, plain numbers (hidden users' scores are kept apart). */
  table(board: string, windowKey: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [user, { score }] of this.users(board, windowKey)) {
      if (!this.isHidden(board, user)) out[user] = score;
    }
    return out;
  }

  /**
   * The ranked list of the visible users, by the board's tie rule: `shared` lists equal scores by
   * user id bytes in the board's direction and gives them one (competition) rank; `first` ranks
   * them by the time their score was set, then by user id bytes ascending, every rank unique.
   */
  ranked(board: string, windowKey: string, order: Order = this.board(board).order): ModelEntry[] {
    const first = this.board(board).tieBreak === 'first';
    const list = [...this.users(board, windowKey)]
      .filter(([userId]) => !this.isHidden(board, userId))
      .map(([userId, { score, setAt }]) => ({ userId, score, setAt }));
    list.sort((a, b) => {
      const byScore = order === 'desc' ? b.score - a.score : a.score - b.score;
      if (byScore !== 0) return byScore;
      if (first) return a.setAt - b.setAt || bytes(a.userId, b.userId);
      return order === 'desc' ? bytes(b.userId, a.userId) : bytes(a.userId, b.userId);
    });
    return rankList(list, first);
  }

  /** A visible user's rank, score, total and percentile; undefined without a score or when hidden. */
  standing(board: string, windowKey: string, userId: string): ModelStanding | undefined {
    const ranked = this.ranked(board, windowKey);
    const entry = ranked.find((e) => e.userId === userId);
    if (!entry) return undefined;
    const total = ranked.length;
    const percentile = total <= 1 ? 100 : Math.round((10_000 * (total - entry.rank)) / (total - 1)) / 100;
    return { ...entry, total, percentile };
  }

  /** The user's entry and up to `n` entries above and below it; undefined as for `standing`. */
  around(board: string, windowKey: string, userId: string, n: number): ModelEntry[] | undefined {
    const ranked = this.ranked(board, windowKey);
    const i = ranked.findIndex((e) => e.userId === userId);
    return i < 0 ? undefined : ranked.slice(Math.max(0, i - n), i + n + 1);
  }

  /** The given users ranked among themselves (a user and their friends), by the board's tie rule. */
  rankAmong(board: string, windowKey: string, userIds: Iterable<string>): ModelEntry[] {
    const ids = new Set(userIds);
    const subset = this.ranked(board, windowKey).filter((e) => ids.has(e.userId));
    return rankList(subset, this.board(board).tieBreak === 'first');
  }

  private board(id: string): BoardConfig {
    const board = this.boards.get(id);
    if (!board) throw new Error(`the model knows no board '${id}'`);
    return board;
  }
}

/** Ranks a list in ranking order: unique ranks, or competition ranks for equal scores. */
function rankList(list: readonly { userId: string; score: number }[], unique: boolean): ModelEntry[] {
  const out: ModelEntry[] = [];
  for (const [i, { userId, score }] of list.entries()) {
    const previous = out[i - 1];
    const shared = !unique && previous !== undefined && previous.score === score;
    out.push({ rank: shared ? previous.rank : i + 1, userId, score });
  }
  return out;
}

/**
 * Folds one event onto a user's score. Which events set the score (and so its time, for the
 * `first` tie rule), as operators/lua/includes/applyEarliest.lua says: the first event always; on
 * `sum`, any non-zero value; on `max` and `min`, a strictly better value; on `last`, an event not
 * older than the current value's.
 */
function fold(board: BoardConfig, current: ModelScore | undefined, e: ModelEvent): ModelScore {
  if (!current) return { score: e.value, ts: e.ts, setAt: e.ts };
  const ts = Math.max(current.ts, e.ts);
  switch (board.policy) {
    case 'sum':
      return { score: current.score + e.value, ts, setAt: e.value !== 0 ? e.ts : current.setAt };
    case 'max':
      return e.value > current.score ? { score: e.value, ts, setAt: e.ts } : { ...current, ts };
    case 'min':
      return e.value < current.score ? { score: e.value, ts, setAt: e.ts } : { ...current, ts };
    case 'last':
      return e.ts >= current.ts ? { score: e.value, ts: e.ts, setAt: e.ts } : current;
  }
}
