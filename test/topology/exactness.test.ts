/**
 * Two answers the contract fixes exactly, each once found wrong by an independent model of it:
 * - on a `last` board, of two events with the same event time the later one in the stream wins,
 *   whether or not either carries an eventId and however a micro-batch groups them;
 * - a change applied while a merge of its top is under way (a merge that read the change's
 *   partition before the change) still reaches the top-K snapshot.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  defineConsumerGroupScripts,
  leaseToken,
  partitionFor,
  partitionKeys,
} from 'redis-streams-consumer-groups';
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import {
  type BoardConfig,
  BoardRegistry,
  EventWriter,
  LeaderboardWorkers,
  scoreEventCodec,
} from '../../leaderboard/index.js';
import { applyState } from '../../operators/applyState.js';
import { CheckpointTracker } from '../../operators/checkpoints.js';
import type { BatchSettler } from '../../operators/fromConsumer.js';
import { topK } from '../../operators/topK.js';
import type { AggregatedPayload, Envelope, GroupSpec, Snapshot } from '../../operators/types.js';
import { ALL_TIME } from '../support/applyHarness.js';
import { LeaderboardModel, type ModelEvent } from '../support/leaderboardModel.js';
import { drained, scoreTable } from '../support/leaderboardState.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';
import { StallableLink } from '../support/stallableLink.js';

const PARTITIONS = 4;

const LEVEL: BoardConfig = {
  id: 'level',
  policy: 'last',
  order: 'desc',
  windows: ['all'],
  topK: 1,
  graceSeconds: 0,
  retentionDays: 30,
};
/** The `level` board as the pipeline's group spec. */
const LEVEL_SPEC: GroupSpec = {
  reduce: 'last',
  windows: [ALL_TIME.definition],
  order: 'desc',
  k: 1,
  tieBreak: 'member',
  retentionMs: 30 * 86_400_000,
};

describe('exactness', () => {
  let redis: Redis;
  let name: string;
  beforeEach(() => {
    redis = new Redis(redisUrl());
    name = uniqueName('ex');
  });
  afterEach(async () => {
    await dropKeys(redis, name);
    await redis.quit();
  });

  it('last: of equal event times the later entry in the stream wins, eventIds or not, in one batch', async () => {
    const boards = new BoardRegistry(redis, name);
    await boards.put(LEVEL);
    const T = Date.now() - 60_000;
    const at = (userId: string, value: number, ts: number, eventId?: string): ModelEvent =>
      eventId === undefined
        ? { board: 'level', userId, value, ts }
        : { board: 'level', userId, value, ts, eventId };
    const events: ModelEvent[] = [
      at('u1', 1, T, 'a'),
      at('u1', 2, T),
      at('u2', 60, T),
      at('u2', 61, T, 'b'),
      at('u2', 62, T),
      at('u3', 62, T),
      at('u3', 61, T, 'c'),
      at('u4', 60, T + 1),
      at('u4', 61, T, 'd'),
      at('u4', 62, T),
      at('u5', 60, T),
      at('u5', 61, T, 'e'),
      at('u5', 59, T - 1),
      at('u6', 5, T, 'f'),
      at('u6', 6, T),
      at('u6', 7, T, 'f'),
    ];
    // Appended before any worker runs: each user's events are consecutive entries of its
    // partition, read as one micro-batch.
    const writer = new EventWriter(redis, { name, partitions: PARTITIONS });
    await writer.append(events);
    writer.close();
    const workers = new LeaderboardWorkers({ redis, boards, name, partitions: PARTITIONS, refreshMs: 20 });
    await workers.start();
    try {
      await waitUntil(() => drained(redis, name, 'workers', PARTITIONS));
      const model = new LeaderboardModel(new Map([['level', LEVEL]]), PARTITIONS);
      model.apply(events);
      const expected = { u1: 2, u2: 62, u3: 61, u4: 60, u5: 61, u6: 6 };
      expect(model.table('level', 'all:0')).toEqual(expected);
      expect(await scoreTable(redis, name, PARTITIONS, 'level', 'all:0')).toEqual(expected);
    } finally {
      await workers.stop();
    }
  });

  it('a change applied while a merge that already read its partition is under way reaches the top', async () => {
    const [a, b] = twoUsersInDifferentPartitions();
    defineConsumerGroupScripts(redis);
    const link = await StallableLink.open(new URL(redisUrl()));
    const merging = new Redis(link.port, '127.0.0.1');
    const batches = new Subject<Envelope<AggregatedPayload>>();
    const settler: BatchSettler = {
      checkpoints: new CheckpointTracker(redis, name),
      settle: () => {},
      giveBack: () => {},
      holds: () => true,
    };
    const snapshots: Snapshot[] = [];
    const subscription = batches
      .pipe(
        applyState({ redis, name, consumerGroup: 'workers', source: settler }),
        topK({ redis: merging, name, partitions: PARTITIONS, refreshMs: 20 }),
      )
      .subscribe((snapshot) => snapshots.push(snapshot));
    const latest = () => snapshots[snapshots.length - 1]?.entries ?? [];
    const apply = async (userId: string, value: number) => {
      const envelope = await lastValueBatch(redis, name, userId, value);
      batches.next(envelope);
      await waitUntil(
        async () =>
          (await redis.hget(partitionKeys(name, envelope.partition).checkpoint, 'id')) === envelope.lastId,
      );
    };
    try {
      await apply(a, 100);
      await apply(b, 5);
      await waitUntil(() => latest()[0]?.member === a && latest()[0]?.score === 100);

      // A drops below B: the merge this marks reads the partitions, and Redis' answers are held...
      link.stallRepliesFrom((request) => request.includes(':ckpt'));
      await apply(a, 1);
      await sleep(100); // the merge's reads have run (B at 5); their replies wait
      // ...while B rises, still below the old top's K-th score (100), and is applied.
      await apply(b, 6);
      link.resume();

      await waitUntil(() => latest()[0]?.score === 6, 3000);
      expect(latest()).toEqual([{ rank: 1, member: b, score: 6 }]);
    } finally {
      subscription.unsubscribe();
      merging.disconnect();
      link.close();
    }
  });

  function twoUsersInDifferentPartitions(): [string, string] {
    const a = 'alice';
    for (let i = 0; ; i++) {
      const b = `bob${i}`;
      if (partitionFor(b, PARTITIONS) !== partitionFor(a, PARTITIONS)) return [a, b];
    }
  }
});

/**
 * A one-entry batch of the `level` board setting a user's value, as the stages before the apply
 * stage hand it on: a real stream entry, read under a real lease of its partition.
 */
async function lastValueBatch(
  redis: Redis,
  name: string,
  userId: string,
  value: number,
): Promise<Envelope<AggregatedPayload>> {
  const partition = partitionFor(userId, PARTITIONS);
  const keys = partitionKeys(name, partition);
  const epoch = await redis.acquireLease(keys.lease, keys.epoch, 'tester', 60_000);
  const ts = Date.now();
  const id = (await redis.xadd(
    keys.stream,
    '*',
    ...scoreEventCodec.encode({ board: 'level', userId, value, ts }),
  ))!;
  return {
    partition,
    epoch,
    token: leaseToken(epoch, 'tester'),
    ids: [id],
    firstId: id,
    lastId: id,
    rejected: [],
    payload: {
      updates: [{ group: 'level', window: ALL_TIME, member: userId, spec: LEVEL_SPEC, value, ts, pos: 0 }],
      identified: [],
      late: [],
      streamTime: ts,
    },
  };
}
