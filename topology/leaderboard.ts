/**
 * The leaderboard, as a topology: partitioned score streams in, windowed top-K snapshots out.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Batch } from 'redis-streams-consumer-groups';
import { concatMap, tap } from 'rxjs';
import { aggregateByKey } from '../operators/aggregateByKey.js';
import { applyBatch } from '../operators/applyBatch.js';
import { assignWindows } from '../operators/assignWindows.js';
import { parseEvents } from '../operators/parseEvents.js';
import type { ConsumerSource } from '../operators/source.js';
import { type Snapshot, topK } from '../operators/topK.js';
import type { AppliedBatch } from '../operators/types.js';
import type { BoardRegistry } from './boards.js';
import { Topology } from './topology.js';

export interface LeaderboardContext {
  redis: Redis | Cluster;
  name: string;
  group: string;
  partitions: number;
  boards: BoardRegistry;
  source: ConsumerSource;
  refreshMs?: number;
  retentionMs?: number;
  /** Streams-to-state time of a partition's stream time at start (from its checkpoint). */
  initialStreamTime?: (partition: number) => number;
  onApplied?: (applied: AppliedBatch) => void;
  onError?: (error: unknown) => void;
}

const boardOf = (ctx: LeaderboardContext) => (id: string) => ctx.boards.get(id);

export const leaderboardTopology = Topology.define<LeaderboardContext>('leaderboard')
  .source('scores', (ctx) => ctx.source.batches, 'consumer group on {lb:p}:in, leased partitions')
  .process(
    'boards',
    (ctx) =>
      concatMap(async (batch: Batch) => {
        await ctx.boards.knowsAll(new Set(batch.entries.map((e) => e.fields.b ?? '')));
        return batch;
      }),
    'reload board configs when a batch names a new board',
  )
  .process('parse', () => parseEvents(), 'decode entries; bad ones are dead-lettered with the batch')
  .process(
    'windows',
    (ctx) => assignWindows(boardOf(ctx), { initialStreamTime: ctx.initialStreamTime }),
    'event-time windows all/day/week/month; late ones set aside',
  )
  .process('aggregate', (ctx) => aggregateByKey(boardOf(ctx)), 'per (board, window, user) within the batch')
  .process(
    'apply',
    (ctx) =>
      applyBatch({
        redis: ctx.redis,
        name: ctx.name,
        group: ctx.group,
        boards: boardOf(ctx),
        source: ctx.source,
        retentionMs: ctx.retentionMs,
        onRetry: ctx.onError,
      }),
    'one fenced Lua script per batch: scores, dedupe, checkpoint, ack',
  )
  .sink('metrics', (ctx) => tap((applied: AppliedBatch) => ctx.onApplied?.(applied)), 'batch counters')
  .sink(
    'topK',
    (ctx) =>
      topK({
        redis: ctx.redis,
        name: ctx.name,
        partitions: ctx.partitions,
        boards: boardOf(ctx),
        refreshMs: ctx.refreshMs,
        onError: ctx.onError,
      }),
    'merge dirty tops, write versioned snapshots, publish',
  );

export type LeaderboardOutput = Snapshot;
