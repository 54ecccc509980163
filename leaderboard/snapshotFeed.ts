/**
 * Announcements of new snapshot versions, per board: the pipeline announces each stored snapshot
 * on its board's sharded channel (`SPUBLISH`, in the slot of the board's snapshots, so on a
 * cluster a message goes to one shard, not to every node). A process subscribes to the boards it
 * serves, on one connection of its own.
 */
import type { Cluster, Redis } from 'ioredis';
import { isCluster } from 'redis-streams-consumer-groups';
import { snapshotChannel } from '../operators/stateKeys.js';

export type Announcement = (windowKey: string, version: number) => void;

/**
 * @example
 * const feed = new SnapshotFeed(redis, 'lb');
 * const stop = feed.watch('global', (window, version) => console.log(window, version));
 */
export class SnapshotFeed {
  private subscriber?: Redis | Cluster;
  private readonly watchers = new Map<string, Set<Announcement>>();
  private readonly boardOfChannel = new Map<string, string>();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly name: string,
  ) {}

  private connection(): Redis | Cluster {
    if (!this.subscriber) {
      const subscriber = isCluster(this.redis)
        ? (this.redis as Cluster).duplicate(undefined, { shardedSubscribers: true })
        : (this.redis as Redis).duplicate();
      // It reconnects and subscribes again by itself; unheard, ioredis would print every failed
      // reconnect while Redis is down (readers re-read snapshots every second meanwhile).
      subscriber.on('error', () => {});
      subscriber.on('smessage', (channel: string, message: string) => {
        const board = this.boardOfChannel.get(channel);
        const space = message.lastIndexOf(' ');
        if (board === undefined || space < 0) return;
        const windowKey = message.slice(0, space);
        const version = Number(message.slice(space + 1));
        for (const watcher of this.watchers.get(board) ?? []) watcher(windowKey, version);
      });
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }

  /** Calls `announcement` for every new snapshot of the board until the returned function is called. */
  watch(board: string, announcement: Announcement): () => void {
    let set = this.watchers.get(board);
    if (!set) {
      set = new Set();
      this.watchers.set(board, set);
      const channel = snapshotChannel(this.name, board);
      this.boardOfChannel.set(channel, board);
      void this.connection()
        .ssubscribe(channel)
        .catch(() => {});
    }
    set.add(announcement);
    return () => {
      set.delete(announcement);
      if (set.size === 0 && this.watchers.get(board) === set) {
        this.watchers.delete(board);
        const channel = snapshotChannel(this.name, board);
        this.boardOfChannel.delete(channel);
        void this.subscriber?.sunsubscribe(channel).catch(() => {});
      }
    };
  }

  stop(): void {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.watchers.clear();
    this.boardOfChannel.clear();
  }
}
