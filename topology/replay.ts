/**
 * Rebuilds a board's state from the retained streams, while the workers keep applying live
 * traffic, and swaps it in atomically per partition.
 *
 * Per partition:
 * 1. `registerReplay-2` records the replay and reads its *frontier*: the partition's checkpoint at
 *    that moment, in the same atomic step. Every batch the workers apply from then on starts after
 *    the frontier, and the apply script mirrors its changes of the board into the replay's shadow
 *    keys (`{lb:p}:replay:<id>:...`).
 * 2. The entries up to the frontier are read with `XRANGE` in chunks and put through the same
 *    operators the workers use (`parseEvents`, `assignWindows`, `aggregateByKey`), skipping those
 *    the workers dead-lettered; `replayBatch-1` applies the board's changes to the shadow keys.
 * 3. `finishReplay-1` swaps the shadow window instances in for the live ones, in one atomic step.
 *
 * So each applied entry is in the shadow exactly once: the ones up to the frontier from the
 * replay, the later ones from the workers' mirror. No checkpoint has to move, and other boards of
 * the partition are not touched. Once all partitions are swapped, the state generation is bumped
 * (the workers' top-K stage merges its tops again) and the snapshots of the swapped instances are
 * rewritten.
 *
 * A window instance that began before the replay's first entry (because of `from`, or because the
 * stream was trimmed by retention) would be rebuilt from part of its events only: such instances
 * are left as they are unless `partial` is set.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import {
  type Batch,
  decodeEntry,
  partitionKeys,
  type RawEntry,
  StreamAdmin,
} from 'redis-streams-consumer-groups';
import { Subject } from 'rxjs';
import { aggregateByKey, inStreamOrder } from '../operators/aggregateByKey.js';
import { assignWindows } from '../operators/assignWindows.js';
import { parseEvents } from '../operators/parseEvents.js';
import { retentionExpiry } from '../operators/retention.js';
import { defineOperatorScripts } from '../operators/scripts.js';
import {
  partitionPrefix,
  replayKey,
  shadowPrefix,
  stateGenerationKey,
  windowKey,
} from '../operators/stateKeys.js';
import { refreshSnapshot } from '../operators/topK.js';
import type { AggregatedPayload, BoardConfig, Envelope, WindowName } from '../operators/types.js';
import { DEFAULTS } from './defaults.js';

export interface ReplayOptions {
  redis: Redis | Cluster;
  /** Looks up every board's config (events of all boards move a partition's stream time). */
  boards: (id: string) => BoardConfig | undefined;
  /** The board to rebuild. */
  board: string;
  /** The windows to rebuild. Default: all of the board's. */
  windows?: readonly WindowName[];
  /** Replay from this entry id (inclusive) or time; default: the start of the retained streams. */
  from?: string | Date;
  /** Also rebuild window instances that began before the replay's first entry. Default false. */
  partial?: boolean;
  name?: string;
  group?: string;
  partitions?: number;
  /** Entries read and applied per step. Default 2000. */
  chunkSize?: number;
  /** Partitions replayed at once. Default 2. */
  concurrency?: number;
  /** Must equal the workers' (ApplyOptions.dedupeHorizonMs). Default 24 hours. */
  dedupeHorizonMs?: number;
  onProgress?: (progress: ReplayProgress) => void;
  signal?: AbortSignal;
}

export interface ReplayProgress {
  /** Entries read so far (of every board: they all pass through the windows stage). */
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
  board: string;
  windows: WindowName[];
  /** Entries read from the streams. */
  replayed: number;
  /** Score updates of the board applied to the shadow state (summed per user and window in each chunk). */
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

/**
 * Rebuilds a board's windows from the retained streams and swaps them in, partition by partition,
 * while live traffic keeps flowing. Rejects with {@link ReplayError} on bad options, when another
 * replay holds a partition, or when aborted (the shadow keys are then removed).
 *
 * @example
 * const result = await replayBoard({ redis, boards: (id) => registry.get(id), board: 'global' });
 * console.log(`${result.replayed} entries replayed, ${result.swapped.length} windows swapped in`);
 */
export async function replayBoard(options: ReplayOptions): Promise<ReplayResult> {
  const started = Date.now();
  const { redis } = options;
  const name = options.name ?? DEFAULTS.name;
  const partitions = options.partitions ?? DEFAULTS.partitions;
  const board = options.boards(options.board);
  if (!board) throw new ReplayError(`unknown board '${options.board}'`);
  const windows = selectWindows(board, options.windows);
  const from = parseFrom(options.from);
  const chunkSize = options.chunkSize ?? 2000;
  if (!Number.isInteger(chunkSize) || chunkSize < 1)
    throw new ReplayError('chunkSize must be a positive integer');
  defineOperatorScripts(redis);

  const replayId = randomBytes(6).toString('hex');
  const admin = new StreamAdmin(redis, { name, group: options.group ?? DEFAULTS.group, partitions });
  const result: ReplayResult = {
    replayId,
    board: board.id,
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

  const coverages = await Promise.all(
    Array.from({ length: partitions }, (_, p) => coverageOf(redis, partitionKeys(name, p).stream, from)),
  );
  const estimatedTotal = coverages.reduce((sum, c) => sum + c.estimatedEntries, 0);

  const replayPartition = async (partition: number) => {
    checkAborted();
    const keys = partitionKeys(name, partition);
    const coverage = coverages[partition]!;
    const minStart = options.partial ? Number.MIN_SAFE_INTEGER : coverage.startMs;
    const [ok, frontier] = await redis.registerReplay(
      replayKey(name, partition),
      keys.checkpoint,
      replayId,
      board.id,
      `,${windows.join(',')},`,
      minStart,
      REGISTRATION_TTL_MS,
    );
    if (ok === 0) {
      throw new ReplayError(
        `partition ${partition} is busy with another replay (${frontier}); try again later`,
      );
    }
    registered.add(partition);
    const dead = await admin.deadLetteredIds(partition);
    const aggregate = aggregator(options.boards);
    const prefix = shadowPrefix(name, partition, replayId);
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
        const aggregated = aggregate({
          partition,
          stream: keys.stream,
          entries,
          firstId: entries[0]!.id,
          lastId: entries[entries.length - 1]!.id,
          epoch: 0,
          token: '',
          redelivered: false,
        });
        const args = shadowArgs(aggregated.payload, board, windows, minStart, skipped);
        result.updates += args.updates;
        const reply = await redis.replayBatch(replayKey(name, partition), [
          replayId,
          prefix,
          options.dedupeHorizonMs ?? DAY_MS,
          REGISTRATION_TTL_MS,
          ...args.values,
        ]);
        if (reply === -1) {
          throw new ReplayError(`the replay's registration on partition ${partition} expired or was removed`);
        }
        result.duplicates += reply[1];
      }
      report();
      if (raw.length < chunkSize || lastId === frontier) break;
    }
    const instances = await redis.finishReplay(
      replayKey(name, partition),
      replayId,
      partitionPrefix(name, partition),
      board.id,
      'swap',
    );
    if (instances === -1) {
      throw new ReplayError(`the replay's registration on partition ${partition} expired before the swap`);
    }
    registered.delete(partition);
    for (const instance of instances) swapped.add(instance);
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
  if (swapped.size > 0) await redis.incr(stateGenerationKey(name));
  if (failure !== undefined) {
    await Promise.allSettled(
      [...registered].map((p) =>
        redis.finishReplay(replayKey(name, p), replayId, partitionPrefix(name, p), board.id, 'abort'),
      ),
    );
    if (swapped.size > 0 && failure instanceof Error) {
      failure.message += ` (the partitions swapped in before keep their rebuilt windows: ${[...swapped].join(', ')})`;
    }
    throw failure;
  }

  for (const instance of swapped) {
    const [window, start] = instance.split(':') as [WindowName, string];
    // A merge of the workers' that read some partitions later than this one is kept; then merge
    // again, until one snapshot saw everything both did.
    for (let attempt = 0; attempt < 10; attempt++) {
      const refreshed = await refreshSnapshot({ redis, name, partitions }, board, window, Number(start));
      if (refreshed.written || refreshed.covered) break;
    }
  }
  for (const instance of skipped) if (!swapped.has(instance)) result.skippedPartial.push(instance);
  result.swapped = [...swapped].sort();
  result.skippedPartial.sort();
  result.elapsedMs = Date.now() - started;
  return result;
}

function selectWindows(board: BoardConfig, windows: readonly WindowName[] | undefined): WindowName[] {
  if (!windows || windows.length === 0) return [...board.windows];
  for (const w of windows) {
    if (!board.windows.includes(w)) {
      throw new ReplayError(
        `board '${board.id}' has no '${w}' window (it keeps ${board.windows.join(', ')})`,
      );
    }
  }
  return [...new Set(windows)];
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
  const field = (name: string) => info[info.indexOf(name) + 1];
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

/** The workers' stages up to aggregation, kept per partition (stream time carries across chunks). */
function aggregator(
  boards: (id: string) => BoardConfig | undefined,
): (batch: Batch) => Envelope<AggregatedPayload> {
  const input = new Subject<Batch>();
  let output: Envelope<AggregatedPayload> | undefined;
  input
    .pipe(parseEvents(), assignWindows(boards, { initialStreamTime: () => 0 }), aggregateByKey(boards))
    .subscribe((envelope) => {
      output = envelope;
    });
  return (batch) => {
    output = undefined;
    input.next(batch); // the stages are synchronous
    if (!output) throw new Error('the replay stages emitted nothing for a batch');
    return output;
  };
}

/** The replayBatch-1 arguments for the board's changes in the selected windows. */
function shadowArgs(
  payload: AggregatedPayload,
  board: BoardConfig,
  windows: readonly WindowName[],
  minStart: number,
  skipped: Set<string>,
): { values: (string | number)[]; updates: number } {
  const wanted = (window: WindowName, start: number) => {
    if (!windows.includes(window)) return false;
    if (start >= minStart) return true;
    skipped.add(windowKey(window, start));
    return false;
  };
  const values: (string | number)[] = [0];
  let updates = 0;
  for (const op of inStreamOrder(payload)) {
    if (op.board !== board.id) continue;
    if ('eventId' in op) {
      const kept = op.windows.filter((w) => wanted(w.window, w.windowStart));
      values.push(
        'e',
        op.board,
        op.eventId,
        op.userId,
        op.policy,
        op.value,
        op.ts,
        idMs(op.entryId),
        kept.length,
      );
      for (const w of kept) {
        values.push(windowKey(w.window, w.windowStart), retentionExpiry(board, w.window, w.windowStart));
      }
      updates++;
    } else if (wanted(op.window, op.windowStart)) {
      values.push('u', op.board, windowKey(op.window, op.windowStart), op.userId, op.policy, op.value, op.ts);
      values.push(retentionExpiry(board, op.window, op.windowStart));
      updates++;
    }
  }
  values[0] = updates;
  return { values, updates };
}
