/**
 * Interactive queries of a pipeline's state (Kafka Streams' "interactive queries"): the top-K of a
 * window instance from its snapshot, a member's score, rank and percentile (1 + better scores
 * summed over the partitions), the members around a member (the partitions' neighbours merged),
 * and the scores of a list of members, for the current or a past window instance.
 */
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis, Result } from 'ioredis';
import { defineScripts, partitionFor, readScripts, type ScriptSource } from 'redis-streams-consumer-groups';
import { earliestMember, earliestScore, parseEarliest } from '../operators/internal/earliest.js';
import { compareMembers, rank, type Scored } from '../operators/ranking.js';
import { snapshotKey, stateKeys } from '../operators/stateKeys.js';
import type { GroupSpec, Order, RankedEntry, TieBreak, WindowInstance } from '../operators/types.js';
import type { Topology } from './topology.js';

/** The scripts of `topology/lua/` (read once per process). */
let storeScripts: ScriptSource[] | undefined;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    countBetter(scores: string, order: Order, targets: string[]): Result<number[], Context>;
    positionsBefore(scores: string, order: Order, ...scoreAndMember: string[]): Result<number[], Context>;
    pageAfter(
      scores: string,
      order: Order,
      score: string,
      member: string,
      limit: number,
    ): Result<string[], Context>;
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
    return (await this.scoresOf(group, window, [member])).get(member);
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

  /**
   * A member's score, rank, total and percentile; undefined without a score. Ranks are
   * competition ranks under the `member` tie rule, unique under `earliest`.
   */
  async standing(group: string, window: WindowInstance, member: string): Promise<Standing | undefined> {
    const layout = this.layoutOf(group);
    const position = await this.stored(group, window, member, layout);
    if (!position) return undefined;
    const [before, total] = await Promise.all([
      layout.earliest
        ? this.positionBefore(group, window.key, layout.stored, position.score, position.member)
        : this.countBetter(group, window.key, layout.order, position.score),
      this.total(group, window.key),
    ]);
    const rankOf = before + 1;
    const percentile = total <= 1 ? 100 : Math.round((10_000 * (total - rankOf)) / (total - 1)) / 100;
    return { member, score: layout.score(Number(position.score)), rank: rankOf, total, percentile };
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
    const layout = this.layoutOf(group);
    const own = await this.stored(group, window, member, layout);
    if (!own) return undefined;
    const replies = await Promise.all(
      this.keys(group, window.key).map((key) =>
        this.redis.neighbours(key, own.score, own.member, n, layout.stored),
      ),
    );
    const position = replies.reduce((sum, [before]) => sum + Number(before), 0);
    const entries = (flat: string[]) => pairs(flat).map((e) => layout.decode(e.member, e.score));
    const above = rank(
      replies.flatMap(([, flat]) => entries(flat)),
      layout.order,
      Number.POSITIVE_INFINITY,
      layout.tieBreak,
    ).slice(-n);
    const below = rank(
      replies.flatMap(([, , flat]) => entries(flat)),
      layout.order,
      Number.POSITIVE_INFINITY,
      layout.tieBreak,
    ).slice(0, n);
    const ordered = [...above, layout.decode(own.member, Number(own.score)), ...below];
    const start = position - above.length;
    if (layout.earliest)
      return ordered.map((e, i) => ({ rank: start + i + 1, member: e.member, score: e.score }));
    // Competition ranks: the first entry's rank needs a count over all partitions; the others
    // follow from their positions, sharing the rank of an equal score just before them.
    const first = ordered[0]!;
    const firstRank = (await this.countBetter(group, window.key, layout.order, String(first.score))) + 1;
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
    const scored = await this.scoredOf(group, window, members);
    return new Map([...scored].map(([member, s]) => [member, s.score]));
  }

  /** The members ranked among themselves (e.g. a user and their friends). */
  async rankAmong(
    group: string,
    window: WindowInstance,
    members: readonly string[],
    k: number,
  ): Promise<RankedEntry[]> {
    const layout = this.layoutOf(group);
    const scored = await this.scoredOf(group, window, members);
    return rank([...scored.values()], layout.order, k, layout.tieBreak);
  }

  /**
   * The whole ranking of a window instance, page by page, from a cursor (none: the first page).
   * A member whose score does not change while a client pages appears exactly once across the
   * pages, whatever changes around it: the cursor is a position in the ranking (the last entry's
   * score and member), not an offset. Each page costs one script call per partition.
   */
  async page(
    group: string,
    window: WindowInstance,
    options: { after?: string; limit: number },
  ): Promise<{ entries: RankedEntry[]; next: string | null }> {
    const layout = this.layoutOf(group);
    const cursor = options.after === undefined ? undefined : parseCursor(options.after);
    const replies = await Promise.all(
      this.keys(group, window.key).map((key) =>
        this.redis.pageAfter(
          key,
          layout.stored,
          cursor?.score ?? '',
          cursor?.member ?? '',
          options.limit + 1,
        ),
      ),
    );
    const candidates: { member: string; score: string }[] = replies.flatMap((flat) => rawPairs(flat));
    const storedOrder = compareStored(layout.stored);
    candidates.sort(storedOrder);
    const page = candidates.slice(0, options.limit);
    if (page.length === 0) return { entries: [], next: null };
    const first = page[0]!;
    const before = await this.positionBefore(group, window.key, layout.stored, first.score, first.member);
    const entries: RankedEntry[] = [];
    for (const [i, raw] of page.entries()) {
      const { member, score } = layout.decode(raw.member, Number(raw.score));
      const previous = entries[i - 1];
      let rankOf = before + i + 1;
      if (!layout.earliest) {
        if (i === 0) rankOf = (await this.countBetter(group, window.key, layout.order, raw.score)) + 1;
        else if (previous!.score === score) rankOf = previous!.rank;
      }
      entries.push({ rank: rankOf, member, score });
    }
    const last = page[page.length - 1]!;
    const next = candidates.length > options.limit ? makeCursor(last.score, last.member) : null;
    return { entries, next };
  }

  /** How a group's sorted sets are laid out (see `operators/internal/earliest.ts`). */
  private layoutOf(group: string): Layout {
    const spec = this.spec(group);
    const order = spec?.order ?? 'desc';
    if (spec?.tieBreak === 'earliest') {
      return {
        earliest: true,
        order,
        tieBreak: 'earliest',
        stored: 'asc',
        score: (stored) => earliestScore(stored, order),
        decode: (stored, score) => {
          const { member, ts } = parseEarliest(stored);
          return { member, ts, score: earliestScore(score, order) };
        },
      };
    }
    return {
      earliest: false,
      order,
      tieBreak: 'member',
      stored: order,
      score: (stored) => stored,
      decode: (member, score) => ({ member, score }),
    };
  }

  /** A member's entry as stored (its sorted-set member and score), or undefined without one. */
  private async stored(
    group: string,
    window: WindowInstance,
    member: string,
    layout: Layout,
  ): Promise<{ member: string; score: string } | undefined> {
    const keys = stateKeys(this.name, partitionFor(member, this.partitions));
    let stored = member;
    if (layout.earliest) {
      const ts = await this.redis.hget(keys.times(group, window.key), member);
      if (ts === null) return undefined;
      stored = earliestMember(ts, member);
    }
    const score = await this.redis.zscore(keys.scores(group, window.key), stored);
    return score === null ? undefined : { member: stored, score };
  }

  /** The given members' scores (and, under `earliest`, the times that set them), per partition in one round. */
  private async scoredOf(
    group: string,
    window: WindowInstance,
    members: readonly string[],
  ): Promise<Map<string, Scored>> {
    const layout = this.layoutOf(group);
    const byPartition = new Map<number, string[]>();
    for (const id of new Set(members)) {
      const p = partitionFor(id, this.partitions);
      const list = byPartition.get(p);
      if (list) list.push(id);
      else byPartition.set(p, [id]);
    }
    const scored = new Map<string, Scored>();
    await Promise.all(
      [...byPartition].map(async ([p, ids]) => {
        const keys = stateKeys(this.name, p);
        let stored = ids;
        if (layout.earliest) {
          const times = await this.redis.hmget(keys.times(group, window.key), ...ids);
          stored = ids.map((id, i) => (times[i] == null ? '' : earliestMember(times[i]!, id)));
        }
        const values = await this.redis.zmscore(keys.scores(group, window.key), ...stored);
        values.forEach((value, i) => {
          if (value !== null && stored[i] !== '')
            scored.set(ids[i]!, layout.decode(stored[i]!, Number(value)));
        });
      }),
    );
    return scored;
  }

  /** How many entries of the window instance come before a stored position, over all partitions. */
  private async positionBefore(
    group: string,
    window: string,
    stored: Order,
    score: string,
    member: string,
  ): Promise<number> {
    const counts = await Promise.all(
      this.keys(group, window).map((key) => this.redis.positionsBefore(key, stored, score, member)),
    );
    return counts.reduce((sum, [count]) => sum + (count ?? 0), 0);
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

/** How a group's entries are stored and ranked. */
interface Layout {
  earliest: boolean;
  order: Order;
  tieBreak: TieBreak;
  /** The order of the sorted sets themselves: ascending under `earliest`. */
  stored: Order;
  score(stored: number): number;
  decode(stored: string, score: number): Scored;
}

/** Orders stored entries (raw member, raw score) as their sorted sets rank them. */
function compareStored(
  order: Order,
): (a: { member: string; score: string }, b: { member: string; score: string }) => number {
  const sign = order === 'desc' ? -1 : 1;
  return (a, b) => sign * (Number(a.score) - Number(b.score) || compareMembers(a.member, b.member));
}

function makeCursor(score: string, member: string): string {
  return Buffer.from(JSON.stringify([score, member])).toString('base64url');
}

/** A cursor's position, or a RangeError for a cursor no page gave out. */
export function parseCursor(cursor: string): { score: string; member: string } {
  try {
    const [score, member] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof score === 'string' && typeof member === 'string' && Number.isFinite(Number(score)))
      return { score, member };
  } catch {
    // not base64url JSON
  }
  throw new RangeError('not a cursor of this ranking (use the `next` of the previous page)');
}

function rawPairs(flat: string[]): { member: string; score: string }[] {
  const out: { member: string; score: string }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ member: flat[i]!, score: flat[i + 1]! });
  return out;
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
