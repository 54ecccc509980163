/**
 * Interactive queries of a pipeline's state (Kafka Streams' "interactive queries"): the top-K of a
 * window instance from its snapshot, a member's score, rank and percentile (1 + better scores
 * summed over the partitions), the members around a member (the partitions' neighbours merged),
 * and the scores of a list of members, for the current or a past window instance.
 */
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis, Result } from 'ioredis';
import { defineScripts, partitionFor, readScripts, type ScriptSource } from 'redis-streams-consumer-groups';
import { rank } from '../operators/ranking.js';
import { snapshotKey, stateKeys } from '../operators/stateKeys.js';
import type { GroupSpec, Order, RankedEntry, WindowInstance } from '../operators/types.js';
import type { Topology } from './topology.js';

/** The scripts of `topology/lua/` (read once per process). */
let storeScripts: ScriptSource[] | undefined;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    countBetter(scores: string, order: Order, targets: string[]): Result<number[], Context>;
    neighbours(
      scores: string,
      score: string,
      member: string,
      n: number,
      order: string,
    ): Result<[number, string[], string[]], Context>;
  }
}

/** A stored snapshot of a top-K. */
export interface StoredSnapshot {
  version: number;
  updatedAt: number;
  entries: RankedEntry[];
}

/** A member's place in a window instance. */
export interface Standing {
  member: string;
  score: number;
  rank: number;
  total: number;
  /** Share of the other members ranked below this one, 0..100 (100: nobody is above). */
  percentile: number;
}

export interface TopKStoreOptions {
  redis: Redis | Cluster;
  partitions: number;
  /** The stream family's name (key prefix). Default: the topology's stream. */
  name?: string;
}

/**
 * @example
 * const store = new TopKStore(trending, { redis, partitions: 16 });
 * const window = store.windowAt('books', 'PT1H+PT10M', Date.now());
 * const top = await store.top('books', window!);
 * const me = await store.standing('books', window!, 'isbn-42');
 */
export class TopKStore<T> {
  readonly name: string;
  readonly partitions: number;
  private readonly redis: Redis | Cluster;
  /**
   * Totals asked for in the current turn of the event loop, per group and window: the requests
   * handled in one turn share one ZCARD per partition (see `total`).
   */
  private readonly totalsThisTurn = new Map<string, Promise<number>>();
  /** Partition keys per group and window, built once (a rank read needs them twice). */
  private readonly keysCache = new Map<string, string[]>();
  /** The `countBetter` calls of the current turn, per group, window and order. */
  private readonly countsThisTurn = new Map<string, CountBatch>();

  constructor(
    private readonly topology: Topology<T>,
    options: TopKStoreOptions,
  ) {
    this.redis = options.redis;
    this.name = options.name ?? topology.definition.stream;
    this.partitions = options.partitions;
    storeScripts ??= readScripts(fileURLToPath(new URL('./lua/', import.meta.url)));
    defineScripts(this.redis, storeScripts);
  }

  /** A group's spec, or undefined for a group the pipeline does not know. */
  spec(group: string): GroupSpec | undefined {
    return this.topology.definition.spec(group);
  }

  /**
   * The instance of a group's window that holds time `at` (for hopping windows, the newest), or
   * undefined when the group is unknown or keeps no such window.
   */
  windowAt(group: string, window: string, at: number): WindowInstance | undefined {
    const definition = this.spec(group)?.windows.find((w) => w.name === window);
    if (!definition) return undefined;
    const instance = definition.windowAt(at);
    return {
      definition,
      start: instance.start,
      end: instance.end,
      key: `${definition.name}:${instance.start}`,
    };
  }

  private keys(group: string, window: string): string[] {
    const id = `${group} ${window}`;
    let keys = this.keysCache.get(id);
    if (!keys) {
      keys = Array.from({ length: this.partitions }, (_, p) => stateKeys(this.name, p).scores(group, window));
      if (this.keysCache.size >= 10_000) this.keysCache.clear();
      this.keysCache.set(id, keys);
    }
    return keys;
  }

  private ownKey(group: string, window: string, member: string): string {
    return stateKeys(this.name, partitionFor(member, this.partitions)).scores(group, window);
  }

  /** The stored snapshot of a window instance's top-K, or undefined when none was written yet. */
  async snapshot(group: string, window: string): Promise<StoredSnapshot | undefined> {
    const raw = await this.redis.hgetall(snapshotKey(this.name, group, window));
    if (!raw.version) return undefined;
    return {
      version: Number(raw.version),
      updatedAt: Number(raw.updatedAt),
      entries: JSON.parse(raw.entries ?? '[]'),
    };
  }

  /** A member's score, or undefined without one. */
  async score(group: string, window: WindowInstance, member: string): Promise<number | undefined> {
    const raw = await this.redis.zscore(this.ownKey(group, window.key, member), member);
    return raw === null ? undefined : Number(raw);
  }

  /**
   * Number of members with a score in the window instance.
   *
   * Calls made in the same turn of the event loop share one ZCARD per partition: under load, the
   * rank reads whose ZSCORE replies arrived together all ask for the same total at once. Their
   * ZCARDs are sent after every one of those calls was made (no sooner than the end of the turn
   * on an auto-pipelining connection, at once otherwise, but still after the requests that make
   * them were received), so each caller gets a total no older than its own request.
   */
  total(group: string, window: string): Promise<number> {
    const id = `${group} ${window}`;
    let total = this.totalsThisTurn.get(id);
    if (!total) {
      total = Promise.all(this.keys(group, window).map((key) => this.redis.zcard(key))).then((counts) =>
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

  /** A member's score, competition rank, total and percentile; undefined without a score. */
  async standing(group: string, window: WindowInstance, member: string): Promise<Standing | undefined> {
    const order = this.orderOf(group);
    const raw = await this.redis.zscore(this.ownKey(group, window.key, member), member);
    if (raw === null) return undefined;
    const score = Number(raw);
    const [better, total] = await Promise.all([
      this.countBetter(group, window.key, order, raw),
      this.total(group, window.key),
    ]);
    const rankOf = better + 1;
    const percentile = total <= 1 ? 100 : Math.round((10_000 * (total - rankOf)) / (total - 1)) / 100;
    return { member, score, rank: rankOf, total, percentile };
  }

  /**
   * The member's entry and up to `n` entries above and below it, in rank order, with ranks;
   * undefined when the member has no score.
   */
  async around(
    group: string,
    window: WindowInstance,
    member: string,
    n: number,
  ): Promise<RankedEntry[] | undefined> {
    const order = this.orderOf(group);
    const raw = await this.redis.zscore(this.ownKey(group, window.key, member), member);
    if (raw === null) return undefined;
    const replies = await Promise.all(
      this.keys(group, window.key).map((key) => this.redis.neighbours(key, raw, member, n, order)),
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
    const ordered = [...above, { member, score: Number(raw) }, ...below];
    // Competition ranks: the first entry's rank needs a count over all partitions; the others
    // follow from their positions, sharing the rank of an equal score just before them.
    const first = ordered[0]!;
    const firstRank = (await this.countBetter(group, window.key, order, String(first.score))) + 1;
    const start = position - above.length;
    const result: RankedEntry[] = [];
    ordered.forEach((entry, i) => {
      const previous = result[i - 1];
      const rankOf = i === 0 ? firstRank : previous!.score === entry.score ? previous!.rank : start + i + 1;
      result.push({ rank: rankOf, member: entry.member, score: entry.score });
    });
    return result;
  }

  /** Scores of the given members that have one, fetched per partition in one round. */
  async scoresOf(
    group: string,
    window: WindowInstance,
    members: readonly string[],
  ): Promise<Map<string, number>> {
    const byPartition = new Map<number, string[]>();
    for (const id of new Set(members)) {
      const p = partitionFor(id, this.partitions);
      const list = byPartition.get(p);
      if (list) list.push(id);
      else byPartition.set(p, [id]);
    }
    const scores = new Map<string, number>();
    await Promise.all(
      [...byPartition].map(async ([p, ids]) => {
        const values = await this.redis.zmscore(stateKeys(this.name, p).scores(group, window.key), ...ids);
        values.forEach((value, i) => {
          if (value !== null) scores.set(ids[i]!, Number(value));
        });
      }),
    );
    return scores;
  }

  /** The members ranked among themselves (e.g. a user and their friends). */
  async rankAmong(
    group: string,
    window: WindowInstance,
    members: readonly string[],
    k: number,
  ): Promise<RankedEntry[]> {
    const scores = await this.scoresOf(group, window, members);
    return rank(
      [...scores].map(([member, score]) => ({ member, score })),
      this.orderOf(group),
      k,
    );
  }

  private orderOf(group: string): Order {
    return this.spec(group)?.order ?? 'desc';
  }

  /**
   * How many members of the window instance have a better score than `score`, over all partitions.
   *
   * The calls of one turn of the event loop for the same group and window are answered together:
   * at the end of the turn their scores go to each partition in one `countBetter` script call
   * (so a turn costs one command per partition, not one per read and partition). The counts are
   * taken after every one of those calls was made, so none is older than its own request.
   */
  private countBetter(group: string, window: string, order: Order, score: string): Promise<number> {
    const id = `${group} ${window} ${order}`;
    let batch = this.countsThisTurn.get(id);
    if (!batch) {
      const created: CountBatch = { scores: [], counts: deferred() };
      this.countsThisTurn.set(id, created);
      process.nextTick(() => {
        this.countsThisTurn.delete(id);
        this.sendCounts(group, window, order, created);
      });
      batch = created;
    }
    const index = batch.scores.push(score) - 1;
    return batch.counts.promise.then((counts) => counts[index]!);
  }

  private sendCounts(group: string, window: string, order: Order, batch: CountBatch): void {
    Promise.all(this.keys(group, window).map((key) => this.redis.countBetter(key, order, batch.scores))).then(
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

function pairs(flat: string[]): { member: string; score: number }[] {
  const out: { member: string; score: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ member: flat[i]!, score: Number(flat[i + 1]) });
  return out;
}
