/**
 * Top-K snapshots served from memory: loaded from Redis on first use, refreshed when the publish
 * channel announces a newer version, and fanned out to live (SSE) listeners. All clients of a
 * process share one Redis subscription.
 */
import type { Cluster, Redis } from 'ioredis';
import { snapshotChannel } from '../operators/stateKeys.js';
import type { LeaderboardQueries, SnapshotRead } from '../topology/queries.js';

type Listener = (snapshot: SnapshotRead) => void;

const MAX_AGE_MS = 1000;

export class SnapshotCache {
  private readonly cache = new Map<string, { snapshot: SnapshotRead; fetchedAt: number }>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private subscriber?: Redis | Cluster;

  constructor(
    private readonly queries: LeaderboardQueries,
    private readonly name: string,
  ) {}

  /** Subscribes to the snapshot channel on a dedicated connection. */
  async start(redis: Redis | Cluster): Promise<void> {
    this.subscriber = redis.duplicate();
    // It reconnects and subscribes again by itself; unheard, ioredis would print every failed
    // reconnect while Redis is down (the snapshots are re-read every second meanwhile).
    this.subscriber.on('error', () => {});
    this.subscriber.on('message', (_channel: string, message: string) => {
      const [board, window, version] = message.split(' ');
      if (board && window && version) void this.refresh(board, window, Number(version)).catch(() => {});
    });
    await this.subscriber.subscribe(snapshotChannel(this.name));
  }

  async stop(): Promise<void> {
    this.subscriber?.disconnect();
  }

  /** The newest snapshot known, from memory when cached. */
  async get(board: string, window: string): Promise<SnapshotRead | undefined> {
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
    if (cached && cached.snapshot.version >= version) return;
    if (!cached && !this.listeners.has(key)) return; // nobody reads it: load lazily instead
    const loaded = await this.queries.snapshot(board, window);
    if (loaded) this.remember(key, loaded);
  }

  private remember(key: string, snapshot: SnapshotRead): void {
    const previous = this.cache.get(key);
    if (previous && previous.snapshot.version >= snapshot.version) {
      previous.fetchedAt = Date.now();
      return;
    }
    this.cache.set(key, { snapshot, fetchedAt: Date.now() });
    for (const listener of this.listeners.get(key) ?? []) listener(snapshot);
  }
}
