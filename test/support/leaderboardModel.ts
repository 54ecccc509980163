/**
 * A reference model of the leaderboard, written plainly: events folded one by one, in each
 * partition's order, by the rules of DESIGN.md and API.md. Tests compare the real system to it.
 */
import { partitionFor } from 'redis-streams-consumer-groups';
import type { BoardConfig } from '../../leaderboard/index.js';
import { windowDefinition } from '../../topology/windows/index.js';

type Order = 'desc' | 'asc';

/** The instance of a board's window holding `ts`, as the model sees it: `key` is `<window>:<start>`. */
export function modelWindow(
  board: BoardConfig,
  window: string,
  ts: number,
): { key: string; start: number; end: number } {
  const instance = windowDefinition(window, { graceMs: board.graceSeconds * 1000 }).windowAt(ts);
  return { key: `${window}:${instance.start}`, start: instance.start, end: instance.end };
}

export interface ModelEvent {
  board: string;
  userId: string;
  value: number;
  ts: number;
  eventId?: string;
}

export class LeaderboardModel {
  /** board -> window key -> user -> { score, ts } */
  readonly scores = new Map<string, Map<string, Map<string, { score: number; ts: number }>>>();
  readonly late: ModelEvent[] = [];
  readonly unknown: ModelEvent[] = [];
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

  users(board: string, windowKey: string): Map<string, { score: number; ts: number }> {
    const windows = this.scores.get(board) ?? new Map<string, Map<string, { score: number; ts: number }>>();
    this.scores.set(board, windows);
    const users = windows.get(windowKey) ?? new Map<string, { score: number; ts: number }>();
    windows.set(windowKey, users);
    return users;
  }

  /** Every user's score in a window, plain numbers. */
  table(board: string, windowKey: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [user, { score }] of this.users(board, windowKey)) out[user] = score;
    return out;
  }

  /** The ranked list: score order, ties by user id bytes in the same direction, competition ranks. */
  ranked(board: string, windowKey: string, order: Order): { rank: number; userId: string; score: number }[] {
    const list = [...this.users(board, windowKey)].map(([userId, { score }]) => ({ userId, score }));
    const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    list.sort((a, b) =>
      order === 'desc'
        ? b.score - a.score || bytes(b.userId, a.userId)
        : a.score - b.score || bytes(a.userId, b.userId),
    );
    return list.map((entry, i) => {
      let first = i;
      while (first > 0 && list[first - 1]!.score === entry.score) first--;
      return { rank: first + 1, userId: entry.userId, score: entry.score };
    });
  }
}

function fold(board: BoardConfig, current: { score: number; ts: number } | undefined, e: ModelEvent) {
  if (!current) return { score: e.value, ts: e.ts };
  switch (board.policy) {
    case 'sum':
      return { score: current.score + e.value, ts: Math.max(current.ts, e.ts) };
    case 'max':
      return { score: Math.max(current.score, e.value), ts: Math.max(current.ts, e.ts) };
    case 'min':
      return { score: Math.min(current.score, e.value), ts: Math.max(current.ts, e.ts) };
    case 'last':
      return e.ts >= current.ts ? { score: e.value, ts: e.ts } : current;
  }
}
