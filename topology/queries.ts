/**
 * The reads of the leaderboard, beside the key layout they depend on: the top-K from the cached
 * snapshot, a user's score, rank and percentile (1 + better scores summed over partitions), the
 * users around a user (the partitions' neighbours merged), and the scores of a list of users.
 */
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis, Result } from 'ioredis';
import { defineScripts, partitionFor, readScripts, type ScriptSource } from 'redis-streams-consumer-groups';
import { type RankedEntry, rank } from '../operators/ranking.js';
import { defineOperatorScripts } from '../operators/scripts.js';
import { scoresKey, snapshotKey } from '../operators/stateKeys.js';
import type { Order } from '../operators/types.js';
import { DEFAULTS } from './defaults.js';

/** The scripts of `topology/lua/` (read once per process). */
let queryScripts: ScriptSource[] | undefined;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    countBetter(scores: string, order: 'desc' | 'asc', targets: string[]): Result<number[], Context>;
  }
}

export interface SnapshotRead {
  version: number;
  updatedAt: number;
  entries: RankedEntry[];
}

export interface UserStanding {
  userId: string;
  score: number;
  rank: number;
  total: number;
  /** Share of the other users ranked below this one, 0..100 (100: nobody is above). */
  percentile: number;
}

/**
 * @example
 * const queries = new LeaderboardQueries(redis);
 * const me = await queries.standing('global', 'all:0', 'desc', 'ann');
 */
export class LeaderboardQueries {
  readonly name: string;
  readonly partitions: number;
  /**
   * Totals asked for in the current turn of the event loop, per board and window: the requests
   * handled in one turn share one ZCARD per partition (see `total`).
   */
  private readonly totalsThisTurn = new Map<string, Promise<number>>();
  /** Partition keys per board and window, built once (a rank read needs them twice). */
  private readonly keysCache = new Map<string, string[]>();
  /** The `countBetter` calls of the current turn, per board, window and order. */
  private readonly countsThisTurn = new Map<string, CountBatch>();

  constructor(
    private readonly redis: Redis | Cluster,
    options: { name?: string; partitions?: number } = {},
  ) {
    this.name = options.name ?? DEFAULTS.name;
    this.partitions = options.partitions ?? DEFAULTS.partitions;
    defineOperatorScripts(redis);
    queryScripts ??= readScripts(fileURLToPath(new URL('./lua/', import.meta.url)));
    defineScripts(redis, queryScripts);
  }

  private keys(board: string, window: string): string[] {
    const id = `${board} ${window}`;
    let keys = this.keysCache.get(id);
    if (!keys) {
      keys = Array.from({ length: this.partitions }, (_, p) => scoresKey(this.name, p, board, window));
      if (this.keysCache.size >= 10_000) this.keysCache.clear();
      this.keysCache.set(id, keys);
    }
    return keys;
  }

  /** The cached top-K snapshot, or undefined when none was written yet. */
  async snapshot(board: string, window: string): Promise<SnapshotRead | undefined> {
    const raw = await this.redis.hgetall(snapshotKey(this.name, board, window));
    if (!raw.version) return undefined;
    return {
      version: Number(raw.version),
      updatedAt: Number(raw.updatedAt),
      entries: JSON.parse(raw.entries ?? '[]'),
    };
  }

  /**
   * Number of users with a score in the window.
   *
   * Calls made in the same turn of the event loop share one ZCARD per partition: under load, the
   * rank reads whose ZSCORE replies arrived together all ask for the same total at once. Their
   * ZCARDs are sent after every one of those calls was made (no sooner than the end of the turn
   * on an auto-pipelining connection, at once otherwise, but still after the requests that make
   * them were received), so each caller gets a total no older than its own request.
   */
  total(board: string, window: string): Promise<number> {
    const id = `${board} ${window}`;
    let total = this.totalsThisTurn.get(id);
    if (!total) {
      total = Promise.all(this.keys(board, window).map((key) => this.redis.zcard(key))).then((counts) =>
        counts.reduce((a, b) => a + b, 0),
      );
      this.totalsThisTurn.set(id, total);
      const shared = total;
      const forget = () => {
        if (this.totalsThisTurn.get(id) === shared) this.totalsThisTurn.delete(id);
      };
      // At the end of the turn, or as soon as it settles (a failure may come within the turn).
      process.nextTick(forget);
      total.then(forget, forget);
    }
    return total;
  }

  /** A user's score, competition rank, total and percentile; undefined without a score. */
  async standing(
    board: string,
    window: string,
    order: Order,
    userId: string,
  ): Promise<UserStanding | undefined> {
    const own = scoresKey(this.name, partitionFor(userId, this.partitions), board, window);
    const raw = await this.redis.zscore(own, userId);
    if (raw === null) return undefined;
    const score = Number(raw);
    const [better, total] = await Promise.all([
      this.countBetter(board, window, order, raw),
      this.total(board, window),
    ]);
    const rankOf = better + 1;
    const percentile = total <= 1 ? 100 : Math.round((10_000 * (total - rankOf)) / (total - 1)) / 100;
    return { userId, score, rank: rankOf, total, percentile };
  }

  /**
   * The user's entry and up to `n` entries above and below it, in board order, with ranks;
   * undefined when the user has no score.
   */
  async around(
    board: string,
    window: string,
    order: Order,
    userId: string,
    n: number,
  ): Promise<RankedEntry[] | undefined> {
    const own = scoresKey(this.name, partitionFor(userId, this.partitions), board, window);
    const raw = await this.redis.zscore(own, userId);
    if (raw === null) return undefined;
    const replies = await Promise.all(
      this.keys(board, window).map((key) => this.redis.neighbours(key, raw, userId, n, order)),
    );
    const position = replies.reduce((sum, [before]) => sum + Number(before), 0);
    const above = rank(
      replies.flatMap(([, flat]) => pairs(flat)),
      order,
    ).slice(-n);
    const below = rank(
      replies.flatMap(([, , flat]) => pairs(flat)),
      order,
    ).slice(0, n);
    const ordered = [...above, { userId, score: Number(raw) }, ...below];
    // Competition ranks: the first entry's rank needs a count over all partitions; the others
    // follow from their positions, sharing the rank of an equal score just before them.
    const first = ordered[0]!;
    const firstRank = (await this.countBetter(board, window, order, String(first.score))) + 1;
    const start = position - above.length;
    const result: RankedEntry[] = [];
    ordered.forEach((entry, i) => {
      const previous = result[i - 1];
      const rankOf = i === 0 ? firstRank : previous!.score === entry.score ? previous!.rank : start + i + 1;
      result.push({ rank: rankOf, userId: entry.userId, score: entry.score });
    });
    return result;
  }

  /** Scores of the given users that have one, fetched per partition in one round. */
  async scoresOf(board: string, window: string, userIds: readonly string[]): Promise<Map<string, number>> {
    const byPartition = new Map<number, string[]>();
    for (const id of new Set(userIds)) {
      const p = partitionFor(id, this.partitions);
      const list = byPartition.get(p);
      if (list) list.push(id);
      else byPartition.set(p, [id]);
    }
    const scores = new Map<string, number>();
    await Promise.all(
      [...byPartition].map(async ([p, ids]) => {
        const values = await this.redis.zmscore(scoresKey(this.name, p, board, window), ...ids);
        values.forEach((value, i) => {
          if (value !== null) scores.set(ids[i]!, Number(value));
        });
      }),
    );
    return scores;
  }

  /** The users ranked among themselves (e.g. a user and their friends). */
  async rankAmong(
    board: string,
    window: string,
    order: Order,
    userIds: readonly string[],
    k: number,
  ): Promise<RankedEntry[]> {
    const scores = await this.scoresOf(board, window, userIds);
    return rank(
      [...scores].map(([userId, score]) => ({ userId, score })),
      order,
      k,
    );
  }

  /**
   * How many users of the window have a better score than `score`, over all partitions.
   *
   * The calls of one turn of the event loop for the same board and window are answered together:
   * at the end of the turn their scores go to each partition in one `countBetter` script call
   * (so a turn costs one command per partition, not one per read and partition). The counts are
   * taken after every one of those calls was made, so none is older than its own request.
   */
  private countBetter(board: string, window: string, order: Order, score: string): Promise<number> {
    const id = `${board} ${window} ${order}`;
    let batch = this.countsThisTurn.get(id);
    if (!batch) {
      const created: CountBatch = { scores: [], counts: deferred() };
      this.countsThisTurn.set(id, created);
      process.nextTick(() => {
        this.countsThisTurn.delete(id);
        this.sendCounts(board, window, order, created);
      });
      batch = created;
    }
    const index = batch.scores.push(score) - 1;
    return batch.counts.promise.then((counts) => counts[index]!);
  }

  private sendCounts(board: string, window: string, order: Order, batch: CountBatch): void {
    Promise.all(this.keys(board, window).map((key) => this.redis.countBetter(key, order, batch.scores))).then(
      (perPartition) => {
        const sums = new Array<number>(batch.scores.length).fill(0);
        for (const counts of perPartition) {
          for (let i = 0; i < sums.length; i++) sums[i] = (sums[i] ?? 0) + (counts[i] ?? 0);
        }
        batch.counts.resolve(sums);
      },
      batch.counts.reject,
    );
  }
}

/** The scores asked about in one turn, and the counts (summed over partitions) they get. */
interface CountBatch {
  scores: string[];
  counts: Deferred<number[]>;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

function pairs(flat: string[]): { userId: string; score: number }[] {
  const out: { userId: string; score: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ userId: flat[i]!, score: Number(flat[i + 1]) });
  return out;
}
