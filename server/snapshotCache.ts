/**
 * Top-K snapshots served from memory: loaded from Redis on first use, refreshed when a board's
 * channel announces a newer version, and fanned out to live (SSE) listeners. All clients of a
 * process share one subscription connection; a board is subscribed to once it is first read.
 */
import type { Cluster, Redis } from 'ioredis';
import { type LeaderboardQueries, SnapshotFeed, type SnapshotRead } from '../leaderboard/index.js';

type Listener = (snapshot: SnapshotRead) => void;

const MAX_AGE_MS = 1000;

export class SnapshotCache {
  private readonly cache = new Map<string, { snapshot: SnapshotRead; fetchedAt: number }>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private feed?: SnapshotFeed;
  private readonly watched = new Set<string>();

  constructor(
    private readonly queries: LeaderboardQueries,
    private readonly name: string,
  ) {}

  /** Prepares the subscription connection (boards are subscribed to as they are read). */
  async start(redis: Redis | Cluster): Promise<void> {
    this.feed = new SnapshotFeed(redis, this.name);
  }

  async stop(): Promise<void> {
    this.feed?.stop();
    this.watched.clear();
  }

  private watch(board: string): void {
    if (this.watched.has(board) || !this.feed) return;
    this.watched.add(board);
    this.feed.watch(board, (window, version) => void this.refresh(board, window, version).catch(() => {}));
  }

  /** The newest snapshot known, from memory when cached. */
  async get(board: string, window: string): Promise<SnapshotRead | undefined> {
    this.watch(board);
    const key = `${board} ${window}`;
    const cached = this.cache.get(key);
    // The channel keeps the cache current; re-reading now and then covers missed messages.
    if (cached && Date.now() - cached.fetchedAt < MAX_AGE_MS) return cached.snapshot;
    const loaded = await this.queries.snapshot(board, window);
    if (loaded) this.remember(key, loaded);
    return this.cache.get(key)?.snapshot ?? loaded;
  }

  /** Calls `listener` with every newer snapshot of the pair until the returned function is called. */
  listen(board: string, window: string, listener: Listener): () => void {
    this.watch(board);
    const key = `${board} ${window}`;
    const set = this.listeners.get(key) ?? new Set();
    set.add(listener);
    this.listeners.set(key, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  private async refresh(board: string, window: string, version: number): Promise<void> {
    const key = `${board} ${window}`;
    const cached = this.cache.get(key);
    // A lower version than the cached one may be a count that started again (see `remember`).
    if (cached && cached.snapshot.version === version) return;
    if (!cached && !this.listeners.has(key)) return; // nobody reads it: load lazily instead
    const loaded = await this.queries.snapshot(board, window);
    if (loaded) this.remember(key, loaded);
  }

  private remember(key: string, snapshot: SnapshotRead): void {
    const previous = this.cache.get(key);
    // Versions only grow while Redis keeps the snapshot; one that lost it (a restart without
    // persistence, state rebuilt by a replay) counts again from 1. A lower version written after
    // the cached one is such a new count, and the newer snapshot; a lower one written before it is
    // an older read that resolved late.
    const restarted =
      previous !== undefined &&
      snapshot.version < previous.snapshot.version &&
      snapshot.updatedAt > previous.snapshot.updatedAt;
    if (previous && previous.snapshot.version >= snapshot.version && !restarted) {
      previous.fetchedAt = Date.now();
      return;
    }
    this.cache.set(key, { snapshot, fetchedAt: Date.now() });
    for (const listener of this.listeners.get(key) ?? []) listener(snapshot);
  }
}
