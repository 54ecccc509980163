/**
 * Writes each aggregated partition batch to Redis with one fenced, checkpointed Lua script.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { concatMap, filter, groupBy, mergeMap, type OperatorFunction } from 'rxjs';
import type { BatchSettler } from './fromConsumer.js';
import { type ApplyTarget, applyArgs, arrivalOf, type ReplayRegistration } from './internal/applyArgs.js';
import { readReplayRegistration } from './internal/replayRegistration.js';
import { defineOperatorScripts } from './internal/scripts.js';
import type { AggregatedPayload, AppliedBatch, ChangedTop, Envelope } from './types.js';

export interface ApplyStateOptions {
  redis: Redis | Cluster;
  /** The stream family's name (key prefix), e.g. `lb`. */
  name: string;
  /** The consumer group whose entries are acknowledged. */
  consumerGroup: string;
  /** The source whose batches are applied; settled once written. */
  source: BatchSettler;
  /** How long late records and dead letters are kept, ms. Default 7 days. */
  retentionMs?: number;
  /** How long a record id is remembered for de-duplication, ms. Default 24 hours. */
  dedupeHorizonMs?: number;
  /** Called when a write failed and will be retried (e.g. Redis unreachable). */
  onRetry?: (error: unknown, partition: number) => void;
}

const LEASE_LOST = -1;
const STALE = -3;
const REPLAY_CHANGED = -4;
const DAY_MS = 86_400_000;
/** Shadow keys of an abandoned replay expire after this long. */
export const SHADOW_TTL_MS = DAY_MS;

/**
 * Applies each partition batch atomically: scores, de-duplication, late records, dead letters,
 * checkpoint and acknowledgement in one Lua script call (`applyState-n.lua`), which also judges
 * which tops the batch may have changed.
 *
 * Batches of one partition are applied strictly in order (a failed write is retried, never
 * skipped), batches of different partitions concurrently. A batch read under a lease that is no
 * longer held changes nothing (the script is fenced by the lease epoch); its entries are left to
 * the partition's new owner. A batch that does not build on the partition's checkpoint (another
 * owner applied some of it) is given back and comes again filtered.
 *
 * ## Example
 * ```ts
 * import { aggregate } from './aggregate.js';
 * import { applyState } from './applyState.js';
 * import { assignWindows } from './assignWindows.js';
 * keyed$.pipe(
 *   assignWindows(),
 *   aggregate(),
 *   applyState({ redis, name: 'orders', consumerGroup: 'workers', source }),
 * ).subscribe((applied) => console.log(applied.changed.length));
 * ```
 *
 * @see aggregate
 * @see topK
 * @param options Where and how to write.
 * @return A function that returns an Observable of what each batch changed.
 */
export function applyState(
  options: ApplyStateOptions,
): OperatorFunction<Envelope<AggregatedPayload>, AppliedBatch> {
  defineOperatorScripts(options.redis);
  // What this process knows of the replay registered on each partition (undefined: none).
  const replays = new Map<number, ReplayRegistration | undefined>();
  return (envelopes) =>
    envelopes.pipe(
      groupBy((envelope) => envelope.partition),
      mergeMap((partition) => partition.pipe(concatMap((envelope) => write(options, replays, envelope)))),
      filter((applied): applied is AppliedBatch => applied !== undefined),
    );
}

async function write(
  options: ApplyStateOptions,
  replays: Map<number, ReplayRegistration | undefined>,
  envelope: Envelope<AggregatedPayload>,
): Promise<AppliedBatch | undefined> {
  const { redis, name, source } = options;
  const { partition, epoch } = envelope;
  const retentionMs = options.retentionMs ?? 7 * DAY_MS;
  for (let attempt = 0; ; attempt++) {
    let reply: Awaited<ReturnType<typeof redis.applyState>>;
    let pairs: ReturnType<typeof applyArgs>['pairs'];
    try {
      const target: ApplyTarget = {
        mode: 'live',
        consumerGroup: options.consumerGroup,
        token: envelope.token,
        after: await source.checkpoints.get(partition, epoch),
        ids: envelope.ids,
        lastId: envelope.lastId,
        minId: String(Math.max(0, Date.now() - retentionMs)),
        replay: replays.get(partition),
        late: envelope.payload.late.map((l) => ({
          entryId: l.record.entryId,
          group: l.record.group,
          member: l.record.member,
          value: l.record.value,
          ts: l.record.ts,
          window: l.window.definition.name,
          windowStart: l.window.start,
        })),
        rejected: envelope.rejected,
      };
      const args = applyArgs(envelope.payload, target, {
        name,
        partition,
        streamTime: envelope.payload.streamTime,
        dedupeHorizonMs: options.dedupeHorizonMs ?? DAY_MS,
        shadowTtlMs: SHADOW_TTL_MS,
      });
      pairs = args.pairs;
      reply = await redis.applyState(args.keys.length, ...args.keys, ...args.argv);
    } catch (error) {
      // Redis unreachable: retry while the lease may still be ours. Once it has run out, the
      // entries are the next owner's (they stay pending), and stopping must not wait for Redis.
      if (!source.holds(partition, epoch)) {
        source.settle(partition, envelope.lastId);
        return undefined;
      }
      options.onRetry?.(error, partition);
      await sleep(Math.min(50 * 2 ** attempt, 1000));
      continue;
    }
    if (reply === LEASE_LOST) {
      source.checkpoints.forget(partition);
      source.settle(partition, envelope.lastId);
      return undefined;
    }
    if (reply === STALE) {
      await source.checkpoints.get(partition, epoch, true);
      source.giveBack(partition, envelope.lastId);
      return undefined;
    }
    if (reply === REPLAY_CHANGED) {
      replays.set(partition, await readReplayRegistration(redis, name, partition));
      continue;
    }
    if (typeof reply === 'number') throw new Error(`applyState answered an unknown code ${reply}`);
    source.checkpoints.advance(partition, epoch, envelope.lastId, envelope.payload.streamTime);
    source.settle(partition, envelope.lastId);
    const changed: ChangedTop[] = reply[1].map((index) => pairs[index - 1]!);
    return report(envelope, changed, reply[2]);
  }
}

function report(
  envelope: Envelope<AggregatedPayload>,
  changed: ChangedTop[],
  duplicates: number,
): AppliedBatch {
  const { late } = envelope.payload;
  return {
    partition: envelope.partition,
    epoch: envelope.epoch,
    lastId: envelope.lastId,
    entries: envelope.ids.length,
    changed,
    late,
    lateCount: late.length,
    rejected: envelope.rejected.length,
    duplicates,
    oldestArrival: arrivalOf(envelope.ids[0]!),
    newestArrival: arrivalOf(envelope.ids[envelope.ids.length - 1]!),
    appliedAt: Date.now(),
  };
}
