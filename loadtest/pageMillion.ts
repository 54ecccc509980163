/**
 * A scratch measurement, not a test: paging a whole 1,000,000-user board in pages of 1,000
 * (`GET /v1/boards/:board/entries`'s read, `LeaderboardQueries.entries`), on a private
 * redis-server (or `REDIS_URL`). The board's scores are written straight into its partitions'
 * sorted sets (the users `u0..u999999` with pseudo-random scores, many equal), on both tie rules'
 * layouts; then every page is read in turn, and the pages put together are checked: every user
 * exactly once, in ranking order, ranks consistent.
 *
 *   npx tsx loadtest/pageMillion.ts [users=1000000] [limit=1000]
 *
 * Prints one JSON line per tie rule: pages, the time to read them all, and p50/p99/max per page.
 */
import { Redis } from 'ioredis';
import { partitionFor } from 'redis-streams-consumer-groups';
import { BoardRegistry, LeaderboardQueries } from '../leaderboard/index.js';
import { earliestMember } from '../operators/internal/earliest.js';
import { stateKeys } from '../operators/stateKeys.js';
import { openRedisTarget } from './harness/redisTarget.js';

const PARTITIONS = 16;
const users = Number(process.argv[2] ?? 1_000_000);
const limit = Number(process.argv[3] ?? 1000);

const target = await openRedisTarget();
const redis = new Redis(target.url);
try {
  for (const tieBreak of ['shared', 'first'] as const) {
    const name = `page${tieBreak}`;
    const boards = new BoardRegistry(redis, name);
    await boards.put({
      id: 'big',
      policy: 'sum',
      order: 'desc',
      windows: ['all'],
      topK: 100,
      graceSeconds: 300,
      retentionDays: 30,
      tieBreak,
    });
    const fillStarted = Date.now();
    await fill(name, tieBreak === 'first');
    const fillMs = Date.now() - fillStarted;
    const queries = new LeaderboardQueries(redis, boards, { name, partitions: PARTITIONS });
    const window = queries.windowAt('big', 'all', Date.now())!;
    const seen = new Uint8Array(users);
    const pageMs: number[] = [];
    let after: string | undefined;
    let count = 0;
    let previous: { rank: number; score: number } | undefined;
    const started = Date.now();
    for (;;) {
      const t0 = performance.now();
      const page = await queries.entries('big', window, { limit, ...(after ? { after } : {}) });
      pageMs.push(performance.now() - t0);
      for (const entry of page.entries) {
        const i = Number(entry.userId.slice(1));
        if (seen[i]) throw new Error(`${entry.userId} appears twice`);
        seen[i] = 1;
        count++;
        if (previous && (entry.score > previous.score || entry.rank < previous.rank))
          throw new Error(`out of order at ${entry.userId}`);
        previous = entry;
      }
      if (!page.next) break;
      after = page.next;
    }
    const totalMs = Date.now() - started;
    if (count !== users) throw new Error(`${count} users paged, expected ${users}`);
    pageMs.sort((a, b) => a - b);
    const q = (p: number) =>
      Math.round(pageMs[Math.min(pageMs.length - 1, Math.ceil(p * pageMs.length) - 1)]! * 10) / 10;
    console.log(
      JSON.stringify({
        tieBreak,
        users,
        limit,
        fillMs,
        pages: pageMs.length,
        totalMs,
        pageP50Ms: q(0.5),
        pageP99Ms: q(0.99),
        pageMaxMs: q(1),
      }),
    );
  }
} finally {
  await redis.flushdb();
  redis.disconnect();
  await target.stop();
}

/** Scores straight into the partitions' sorted sets, as the apply script lays them out. */
async function fill(name: string, earliest: boolean): Promise<void> {
  let seed = 12_345;
  let pipeline = redis.pipeline();
  let queued = 0;
  const t = Date.now();
  for (let i = 0; i < users; i++) {
    const userId = `u${i}`;
    const p = partitionFor(userId, PARTITIONS);
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    const score = seed % 100_000; // about ten users per score
    const keys = stateKeys(name, p);
    if (earliest) {
      const ts = t - (seed % 86_400_000);
      pipeline.zadd(keys.scores('big', 'all:0'), -score, earliestMember(ts, userId));
      pipeline.hset(keys.times('big', 'all:0'), userId, String(ts));
    } else {
      pipeline.zadd(keys.scores('big', 'all:0'), score, userId);
    }
    if (++queued >= 10_000) {
      await pipeline.exec();
      pipeline = redis.pipeline();
      queued = 0;
    }
  }
  await pipeline.exec();
}
