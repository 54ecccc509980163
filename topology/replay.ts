/**
 * Rebuilds a group's state from the retained streams, for any pipeline, while the workers keep
 * applying live traffic, and swaps it in atomically per partition.
 *
 * Per partition:
 * 1. `registerReplay-2` records the replay and reads its *frontier*: the partition's checkpoint at
 *    that moment, in the same atomic step. Every batch the workers apply from then on starts after
 *    the frontier, and the apply script mirrors its changes of the group into the replay's shadow
 *    keys (`{t}:replay:<id>:...`).
 * 2. The entries up to the frontier are read with `XRANGE` in chunks and put through the
 *    pipeline's own stages (`recordStages`: decode, key, windows, aggregate), skipping those the
 *    workers dead-lettered, and applied by the workers' own script and argument builder in its
 *    replay mode, into the shadow keys.
 * 3. `finishReplay-n` swaps the shadow window instances in for the live ones, in one atomic step.
 *
 * So each applied entry is in the shadow exactly once: the ones up to the frontier from the
 * replay, the later ones from the workers' mirror. No checkpoint has to move, and other groups of
 * the partition are not touched. The snapshots of the swapped instances are merged again.
 *
 * A window instance that began before the replay's first entry (because of `from`, or because the
 * stream was trimmed by retention) would be rebuilt from part of its records only: such instances
 * are left as they are unless `partial` is set.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { type Batch, decodeEntry, type RawEntry, StreamAdmin } from 'redis-streams-consumer-groups';
import { Subject } from 'rxjs';
import { applyArgs } from '../operators/internal/applyArgs.js';
import { defineOperatorScripts } from '../operators/internal/scripts.js';
import { parseWindowKey, stateKeys } from '../operators/stateKeys.js';
import { refreshSnapshot } from '../operators/topK.js';
import type { AggregatedPayload, Envelope } from '../operators/types.js';
import { recordStages } from './stages.js';
import type { Topology } from './topology.js';

export interface ReplayOptions<T> {
  topology: Topology<T>;
  redis: Redis | Cluster;
  partitions: number;
  /** The group to rebuild. */
  group: string;
  /** The windows to rebuild (names). Default: all of the group's. */
  windows?: readonly string[];
  /** Replay from this entry id (inclusive) or time; default: the start of the retained streams. */
  from?: string | Date;
  /** Also rebuild window instances that began before the replay's first entry. Default false. */
  partial?: boolean;
  /** The stream family's name. Default: the topology's stream. */
  name?: string;
  /** The workers' consumer group (its dead letters are skipped). Default `workers`. */
  consumerGroup?: string;
  /** Entries read and applied per step. Default 2000. */
  chunkSize?: number;
  /** Partitions replayed at once. Default 2. */
  concurrency?: number;
  /** Must equal the workers' (applyState's dedupeHorizonMs). Default 24 hours. */
  dedupeHorizonMs?: number;
  onProgress?: (progress: ReplayProgress) => void;
  signal?: AbortSignal;
}

export interface ReplayProgress {
  /** Entries read so far (of every group: they all move a partition's stream time). */
  replayed: number;
  /** Entries expected in all, estimated from the streams' lengths before each partition starts. */
  estimatedTotal: number;
  partitionsDone: number;
  partitions: number;
  eventsPerSecond: number;
  /** Estimated time left, ms; undefined until there is a rate to go by. */
  etaMs: number | undefined;
}

export interface ReplayResult {
  replayId: string;
  group: string;
  windows: string[];
  /** Entries read from the streams. */
  replayed: number;
  /** Updates and identified records of the group applied to the shadow state. */
  updates: number;
  duplicates: number;
  /** Window instances swapped in, as `<window>:<start>`. */
  swapped: string[];
  /** Window instances left as they were because they began before the replayed entries. */
  skippedPartial: string[];
  elapsedMs: number;
}

/** A replay could not start or was stopped; no live state was changed by it. */
export class ReplayError extends Error {
  override name = 'ReplayError';
}

const REGISTRATION_TTL_MS = 60_000;
const DAY_MS = 86_400_000;
const SHADOW_TTL_MS = DAY_MS;

/**
 * Rebuilds a group's windows from the retained streams and swaps them in, partition by partition,
 * while live traffic keeps flowing. Rejects with {@link ReplayError} on bad options, when another
 * replay holds a partition, or when aborted (the shadow keys are then removed).
 *
 * @example
 * const result = await replayPipeline({ topology, redis, partitions: 16, group: 'global' });
 * console.log(`${result.replayed} entries replayed, ${result.swapped.length} windows swapped in`);
 */
export async function replayPipeline<T>(options: ReplayOptions<T>): Promise<ReplayResult> {
  const started = Date.now();
  const { redis, topology, partitions } = options;
  const { definition } = topology;
  const name = options.name ?? definition.stream;
  const spec = definition.spec(options.group);
  if (!spec) throw new ReplayError(`unknown ${definition.groupNoun} '${options.group}'`);
  const windows = selectWindows(
    options.group,
    spec.windows.map((w) => w.name),
    options.windows,
    definition.groupNoun,
  );
  const from = parseFrom(options.from);
  const chunkSize = options.chunkSize ?? 2000;
  if (!Number.isInteger(chunkSize) || chunkSize < 1)
    throw new ReplayError('chunkSize must be a positive integer');
  defineOperatorScripts(redis);

  const replayId = randomBytes(6).toString('hex');
  const admin = new StreamAdmin(redis, { name, group: options.consumerGroup ?? 'workers', partitions });
  const result: ReplayResult = {
    replayId,
    group: options.group,
    windows,
    replayed: 0,
    updates: 0,
    duplicates: 0,
    swapped: [],
    skippedPartial: [],
    elapsedMs: 0,
  };
  const swapped = new Set<string>();
  const skipped = new Set<string>();
  const registered = new Set<number>();
  let partitionsDone = 0;
  let failure: unknown;

  const coverages = await Promise.all(
    Array.from({ length: partitions }, (_, p) => coverageOf(redis, stateKeys(name, p).stream, from)),
  );
  const estimatedTotal = coverages.reduce((sum, c) => sum + c.estimatedEntries, 0);
  const report = () => {
    if (!options.onProgress) return;
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? result.replayed / seconds : 0;
    const left = Math.max(0, estimatedTotal - result.replayed);
    options.onProgress({
      replayed: result.replayed,
      estimatedTotal: Math.max(estimatedTotal, result.replayed),
      partitionsDone,
      partitions,
      eventsPerSecond: rate,
      etaMs: rate > 0 ? (left / rate) * 1000 : undefined,
    });
  };
  const checkAborted = () => {
    if (options.signal?.aborted) throw new ReplayError('replay aborted');
    if (failure !== undefined) throw new ReplayError('stopped: another partition failed');
  };

  const replayPartition = async (partition: number) => {
    checkAborted();
    const keys = stateKeys(name, partition);
    const minStart = options.partial ? Number.MIN_SAFE_INTEGER : coverages[partition]!.startMs;
    const [ok, frontier] = await redis.registerReplay(
      keys.replay,
      keys.checkpoint,
      replayId,
      options.group,
      `,${windows.join(',')},`,
      minStart,
      REGISTRATION_TTL_MS,
    );
    if (ok === 0)
      throw new ReplayError(
        `partition ${partition} is busy with another replay (${frontier}); try again later`,
      );
    registered.add(partition);
    const registration = { id: replayId, group: options.group, windows: new Set(windows), minStart };
    const dead = await admin.deadLetteredIds(partition);
    const stages = aggregator(topology);
    let start = from.id ?? '-';
    while (frontier !== '') {
      checkAborted();
      const raw = (await redis.xrange(keys.stream, start, frontier, 'COUNT', chunkSize)) as RawEntry[];
      if (raw.length === 0) break;
      const entries = raw.map((r) => decodeEntry(r)).filter((e) => !dead.has(e.id));
      const lastId = raw[raw.length - 1]![0];
      start = `(${lastId}`;
      result.replayed += raw.length;
      if (entries.length > 0) {
        const aggregated = await stages({
          partition,
          stream: keys.stream,
          entries,
          firstId: entries[0]!.id,
          lastId: entries[entries.length - 1]!.id,
          epoch: 0,
          token: '',
          redelivered: false,
        });
        const args = applyArgs(
          aggregated.payload,
          { mode: 'replay', replay: registration, registrationTtlMs: REGISTRATION_TTL_MS, skipped },
          {
            name,
            partition,
            streamTime: aggregated.payload.streamTime,
            dedupeHorizonMs: options.dedupeHorizonMs ?? DAY_MS,
            shadowTtlMs: SHADOW_TTL_MS,
          },
        );
        result.updates += args.ops;
        const reply = await redis.applyState(args.keys.length, ...args.keys, ...args.argv);
        if (typeof reply === 'number') {
          throw new ReplayError(`the replay's registration on partition ${partition} expired or was removed`);
        }
        result.duplicates += reply[2];
      }
      report();
      if (raw.length < chunkSize || lastId === frontier) break;
    }
    for (const instance of await finish(redis, name, partition, replayId, options.group, 'swap'))
      swapped.add(instance);
    registered.delete(partition);
    partitionsDone++;
    report();
  };

  const queue = Array.from({ length: partitions }, (_, p) => p);
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 2, partitions));
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let p = queue.shift(); p !== undefined && failure === undefined; p = queue.shift()) {
        try {
          await replayPartition(p);
        } catch (error) {
          failure ??= error;
        }
      }
    }),
  );
  if (failure !== undefined) {
    await Promise.allSettled(
      [...registered].map((p) => finish(redis, name, p, replayId, options.group, 'abort')),
    );
    if (swapped.size > 0 && failure instanceof Error) {
      failure.message += ` (the partitions swapped in before keep their rebuilt windows: ${[...swapped].join(', ')})`;
    }
    throw failure;
  }

  for (const key of swapped) {
    const { window, start } = parseWindowKey(key);
    const definitionOf = spec.windows.find((w) => w.name === window);
    const instance = definitionOf?.windowStartingAt(start);
    if (!definitionOf || !instance) continue;
    // A merge of the workers' that read some partitions later than this one is kept; then merge
    // again, until one snapshot saw everything both did.
    for (let attempt = 0; attempt < 10; attempt++) {
      const refreshed = await refreshSnapshot(
        { redis, name, partitions },
        options.group,
        { ...instance, definition: definitionOf, key },
        spec,
      );
      if (refreshed.written || refreshed.covered) break;
    }
  }
  for (const instance of skipped) if (!swapped.has(instance)) result.skippedPartial.push(instance);
  result.swapped = [...swapped].sort();
  result.skippedPartial.sort();
  result.elapsedMs = Date.now() - started;
  return result;
}

/** Swaps a partition's shadow in (or drops it), with every key declared; reads the instances again while the workers add some. */
async function finish(
  redis: Redis | Cluster,
  name: string,
  partition: number,
  replayId: string,
  group: string,
  mode: 'swap' | 'abort',
): Promise<string[]> {
  const keys = stateKeys(name, partition);
  const shadow = keys.shadow(replayId);
  for (let attempt = 0; attempt < 20; attempt++) {
    const instances = Object.keys(await redis.hgetall(shadow.instances));
    const instanceKeys = instances.flatMap((w) => [
      keys.scores(group, w),
      shadow.scores(group, w),
      keys.times(group, w),
      shadow.times(group, w),
      keys.hiddenScores(group, w),
      shadow.hiddenScores(group, w),
    ]);
    const all = [
      keys.replay,
      shadow.instances,
      keys.checkpoint,
      keys.dedupe(group),
      shadow.dedupe(group),
      ...instanceKeys,
    ];
    const reply = await redis.finishReplay(all.length, ...all, replayId, mode, ...instances);
    if (reply === -1)
      throw new ReplayError(`the replay's registration on partition ${partition} expired before the ${mode}`);
    if (reply !== -2) return reply as string[];
  }
  throw new ReplayError(`the shadow of partition ${partition} kept changing; could not ${mode} it`);
}

function selectWindows(
  group: string,
  kept: string[],
  wanted: readonly string[] | undefined,
  noun: string,
): string[] {
  if (!wanted || wanted.length === 0) return kept;
  for (const w of wanted) {
    if (!kept.includes(w))
      throw new ReplayError(`${noun} '${group}' has no '${w}' window (it keeps ${kept.join(', ')})`);
  }
  return [...new Set(wanted)];
}

/** `from` as an inclusive XRANGE start id and its time, ms. */
function parseFrom(from: string | Date | undefined): { id?: string; ms: number } {
  if (from === undefined) return { ms: 0 };
  if (from instanceof Date) {
    if (Number.isNaN(from.getTime())) throw new ReplayError('from is not a valid date');
    return { id: `${from.getTime()}-0`, ms: from.getTime() };
  }
  const id = /^(\d+)(?:-(\d+))?$/.exec(from);
  if (id) return { id: from, ms: Number(id[1]) };
  const ms = Date.parse(from);
  if (Number.isNaN(ms)) {
    throw new ReplayError(
      `from must be a stream entry id (e.g. 1763856000000-0) or an ISO time, not '${from}'`,
    );
  }
  return { id: `${ms}-0`, ms };
}

/**
 * From when the partition's stream holds every entry the replay reads (its window instances that
 * start earlier would be rebuilt in part), and how many entries the replay will read, roughly.
 */
async function coverageOf(
  redis: Redis | Cluster,
  stream: string,
  from: { id?: string; ms: number },
): Promise<{ startMs: number; estimatedEntries: number }> {
  let info: unknown[];
  try {
    info = (await redis.xinfo('STREAM', stream)) as unknown[];
  } catch {
    return { startMs: from.ms, estimatedEntries: 0 }; // no stream yet
  }
  const field = (key: string) => info[info.indexOf(key) + 1];
  const length = Number(field('length'));
  const maxDeleted = String(field('max-deleted-entry-id') ?? '0-0');
  const trimmedBefore = maxDeleted === '0-0' ? 0 : Number(maxDeleted.split('-')[0]) + 1;
  const startMs = Math.max(from.ms, trimmedBefore);
  if (from.id === undefined || length === 0) return { startMs, estimatedEntries: length };
  const first = idMs((field('first-entry') as [string] | null)?.[0]);
  const last = idMs((field('last-entry') as [string] | null)?.[0]);
  const share = last > first ? Math.min(1, Math.max(0, (last - from.ms) / (last - first))) : 1;
  return { startMs, estimatedEntries: Math.round(length * share) };
}

function idMs(id: string | undefined): number {
  return id ? Number(id.split('-')[0]) : 0;
}

/** The pipeline's stages up to aggregation, kept per partition (stream time carries across chunks). */
function aggregator<T>(topology: Topology<T>): (batch: Batch) => Promise<Envelope<AggregatedPayload>> {
  const input = new Subject<Batch>();
  const outputs: ((envelope: Envelope<AggregatedPayload>) => void)[] = [];
  input
    .pipe(recordStages(topology.definition, { initialStreamTime: () => 0 }))
    .subscribe((envelope) => outputs.shift()?.(envelope));
  return (batch) =>
    new Promise((resolve) => {
      outputs.push(resolve);
      input.next(batch);
    });
}
