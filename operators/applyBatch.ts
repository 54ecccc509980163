/**
 * Writes each aggregated partition batch to Redis with one fenced, checkpointed Lua script.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { partitionKeys } from 'redis-streams-consumer-groups';
import { concatMap, filter, groupBy, mergeMap, type OperatorFunction } from 'rxjs';
import { inStreamOrder } from './aggregateByKey.js';
import { retentionExpiry } from './retention.js';
import { defineOperatorScripts } from './scripts.js';
import type { BatchSettler } from './source.js';
import { lateKey, partitionPrefix, windowKey } from './stateKeys.js';
import type {
  AggregatedPayload,
  AppliedBatch,
  BoardConfig,
  ChangedWindow,
  Envelope,
  WindowName,
} from './types.js';

export interface ApplyOptions {
  redis: Redis | Cluster;
  /** The stream family's name (key prefix), e.g. `lb`. */
  name: string;
  group: string;
  boards: (id: string) => BoardConfig | undefined;
  /** The source whose batches are applied; settled once written. */
  source: BatchSettler;
  /** How long late events and dead letters are kept, ms. Default 7 days. */
  retentionMs?: number;
  /** How long an eventId is remembered for de-duplication, ms. Default 24 hours. */
  dedupeHorizonMs?: number;
  /** Called when a write failed and will be retried (e.g. Redis unreachable). */
  onRetry?: (error: unknown, partition: number) => void;
}

const LEASE_LOST = -1;
const STALE = -3;
const DAY_MS = 86_400_000;

/**
 * Applies each partition batch atomically: scores, de-duplication, late events, dead letters,
 * checkpoint and acknowledgement in one Lua script call.
 *
 * Batches of one partition are applied strictly in order (a failed write is retried, never
 * skipped), batches of different partitions concurrently. A batch read under a lease that is no
 * longer held changes nothing (the script is fenced by the lease epoch); its entries are left to
 * the partition's new owner. A batch whose entries the checkpoint already covers is given back
 * and comes again filtered.
 *
 * ## Example
 * ```ts
 * import { aggregateByKey } from './aggregateByKey.js';
 * import { applyBatch } from './applyBatch.js';
 * import { assignWindows } from './assignWindows.js';
 * import { parseEvents } from './parseEvents.js';
 * source.batches.pipe(
 *   parseEvents(),
 *   assignWindows(boards),
 *   aggregateByKey(boards),
 *   applyBatch({ redis, name: 'lb', group: 'workers', boards, source }),
 * ).subscribe((applied) => console.log(applied.changed.length));
 * ```
 *
 * @see aggregateByKey
 * @see topK
 * @param options Where and how to write.
 * @return A function that returns an Observable of what each batch changed.
 */
export function applyBatch(
  options: ApplyOptions,
): OperatorFunction<Envelope<AggregatedPayload>, AppliedBatch> {
  defineOperatorScripts(options.redis);
  return (envelopes) =>
    envelopes.pipe(
      groupBy((envelope) => envelope.partition),
      mergeMap((partition) => partition.pipe(concatMap((envelope) => write(options, envelope)))),
      filter((applied): applied is AppliedBatch => applied !== undefined),
    );
}

async function write(
  options: ApplyOptions,
  envelope: Envelope<AggregatedPayload>,
): Promise<AppliedBatch | undefined> {
  const { redis, name, source } = options;
  const keys = partitionKeys(name, envelope.partition);
  const args = buildArgs(options, envelope);
  for (let attempt = 0; ; attempt++) {
    let reply: Awaited<ReturnType<typeof redis.applyBatch>>;
    try {
      reply = await redis.applyBatch(
        keys.stream,
        keys.lease,
        keys.checkpoint,
        lateKey(name, envelope.partition),
        keys.dlq,
        args,
      );
    } catch (error) {
      // Redis unreachable: retry while the lease may still be ours. Once it has run out, the
      // entries are the next owner's (they stay pending), and stopping must not wait for Redis.
      if (!source.holds(envelope.partition, envelope.epoch)) {
        source.settle(envelope.partition, envelope.lastId);
        return undefined;
      }
      options.onRetry?.(error, envelope.partition);
      await sleep(Math.min(50 * 2 ** attempt, 1000));
      continue;
    }
    if (reply === LEASE_LOST) {
      source.checkpoints.forget(envelope.partition);
      source.settle(envelope.partition, envelope.lastId);
      return undefined;
    }
    if (reply === STALE) {
      await source.checkpoints.get(envelope.partition, envelope.epoch, true);
      source.giveBack(envelope.partition, envelope.lastId);
      return undefined;
    }
    if (typeof reply === 'number') throw new Error(`applyBatch answered an unknown code ${reply}`);
    source.checkpoints.advance(
      envelope.partition,
      envelope.epoch,
      envelope.lastId,
      envelope.payload.streamTime,
    );
    source.settle(envelope.partition, envelope.lastId);
    return report(envelope, reply[1], reply[2]);
  }
}

function buildArgs(options: ApplyOptions, envelope: Envelope<AggregatedPayload>): (string | number)[] {
  const { late, unknownBoard, streamTime } = envelope.payload;
  const retentionMs = options.retentionMs ?? 7 * DAY_MS;
  const args: (string | number)[] = [
    options.group,
    envelope.token,
    partitionPrefix(options.name, envelope.partition),
    envelope.firstId,
    envelope.lastId,
    streamTime,
    Math.max(0, Date.now() - retentionMs),
    options.dedupeHorizonMs ?? DAY_MS,
    envelope.ids.length,
  ];
  for (const id of envelope.ids) args.push(id);
  const ops = inStreamOrder(envelope.payload);
  const boards = new Set<string>();
  for (const op of ops) boards.add(op.board);
  args.push(boards.size);
  for (const id of boards) {
    const board = options.boards(id);
    args.push(id, board?.order ?? 'desc', board?.topK ?? 1);
  }
  args.push(ops.length);
  for (const op of ops) {
    if ('eventId' in op) {
      args.push('e', op.board, op.eventId, op.userId, op.policy, op.value, op.ts, op.windows.length);
      const board = options.boards(op.board);
      for (const w of op.windows)
        args.push(windowKey(w.window, w.windowStart), retentionExpiry(board, w.window, w.windowStart));
    } else {
      args.push('u', op.board, windowKey(op.window, op.windowStart), op.userId, op.policy, op.value, op.ts);
      args.push(retentionExpiry(options.boards(op.board), op.window, op.windowStart));
    }
  }
  args.push(late.length);
  for (const l of late) {
    const e = l.event;
    args.push(e.entryId, e.board, e.userId, e.value, e.ts, l.window, l.windowStart);
  }
  const rejected = [
    ...envelope.rejected,
    ...unknownBoard.map((e) => ({ id: e.entryId, reason: `unknown board '${e.board}'` })),
  ];
  args.push(rejected.length);
  for (const r of rejected) args.push(r.id, r.reason);
  return args;
}

function report(envelope: Envelope<AggregatedPayload>, marked: string[], duplicates: number): AppliedBatch {
  const { late, unknownBoard } = envelope.payload;
  const changed: ChangedWindow[] = marked.map((pair) => {
    const [board, key] = pair.split(' ') as [string, string];
    const colon = key.indexOf(':');
    return { board, window: key.slice(0, colon) as WindowName, windowStart: Number(key.slice(colon + 1)) };
  });
  return {
    partition: envelope.partition,
    epoch: envelope.epoch,
    lastId: envelope.lastId,
    entries: envelope.ids.length,
    changed,
    late: late.length,
    rejected: envelope.rejected.length + unknownBoard.length,
    duplicates,
    oldestArrival: idTime(envelope.ids[0]!),
    newestArrival: idTime(envelope.ids[envelope.ids.length - 1]!),
    appliedAt: Date.now(),
  };
}

function idTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
