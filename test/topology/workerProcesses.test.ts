/**
 * Worker processes that die and stall while events keep coming. Two worker processes share the
 * partitions; this process writes events continuously through EventWriter. Mid-run one worker is
 * SIGKILLed (and a replacement process started), later another is SIGSTOPped past its lease and
 * then SIGCONTinued, a zombie whose late writes must change nothing. Once writing stops and the
 * group is drained, every board and window must hold exactly what the reference model computes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { windowKey } from '../../operators/stateKeys.js';
import { windowFor } from '../../operators/timeWindows.js';
import type { BoardConfig } from '../../operators/types.js';
import { BoardRegistry } from '../../topology/boards.js';
import { EventWriter } from '../../topology/eventWriter.js';
import { LeaderboardModel, type ModelEvent } from '../support/leaderboardModel.js';
import { drained, scoreTable } from '../support/leaderboardState.js';
import { connect, dropKeys, redisUrl, uniqueName } from '../support/redis.js';

const PARTITIONS = 8;
const LEASE_MS = 1000;
const ROUNDS = 30;
const PER_ROUND = 200;
const DAY = 86_400_000;
const MINUTE = 60_000;
const FIXTURE = fileURLToPath(new URL('../fixtures/workerProcess.ts', import.meta.url));

const BOARDS: BoardConfig[] = [
  {
    id: 'points',
    policy: 'sum',
    order: 'desc',
    windows: ['all', 'day', 'week', 'month'],
    topK: 10,
    graceSeconds: 60,
    retentionDays: 30,
  },
  {
    id: 'best',
    policy: 'max',
    order: 'desc',
    windows: ['all', 'day'],
    topK: 10,
    graceSeconds: 0,
    retentionDays: 30,
  },
  {
    id: 'laps',
    policy: 'min',
    order: 'asc',
    windows: ['all', 'week'],
    topK: 10,
    graceSeconds: 0,
    retentionDays: 30,
  },
  {
    id: 'level',
    policy: 'last',
    order: 'desc',
    windows: ['all', 'day'],
    topK: 10,
    graceSeconds: 0,
    retentionDays: 30,
  },
  {
    id: 'daily',
    policy: 'sum',
    order: 'desc',
    windows: ['day'],
    topK: 10,
    graceSeconds: 600,
    retentionDays: 30,
  },
];

interface WorkerMessage {
  type: string;
  partition?: number;
  epoch?: number;
  reason?: string;
  message?: string;
}

interface WorkerChild {
  process: ChildProcess;
  messages: WorkerMessage[];
  /** Partitions the worker said it owns now (assigned and not revoked since). */
  owned(): Set<number>;
}

function spawnWorker(name: string): WorkerChild {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: {
      ...process.env,
      REDIS_URL: redisUrl(),
      STREAM_NAME: name,
      PARTITIONS: String(PARTITIONS),
      LEASE_MS: String(LEASE_MS),
      APPLY_DELAY_MS: '20', // a batch is in hand for a while: the faults take some with them
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const messages: WorkerMessage[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      messages.push(JSON.parse(line) as WorkerMessage);
    } catch {
      // not one of ours (a library's warning)
    }
  });
  return {
    process: child,
    messages,
    owned() {
      const owned = new Set<number>();
      for (const m of messages) {
        if (m.type === 'assigned') owned.add(m.partition!);
        if (m.type === 'revoked') owned.delete(m.partition!);
      }
      return owned;
    },
  };
}

/** A small deterministic generator (an LCG), so a failing run can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Rounds of events: a clock walks forward from 10 days ago over several day boundaries; some
 * events are a little behind it, some days late, some for an unknown board (dead letters), some
 * repeat an eventId. Every ts is distinct, so `last` has no ties.
 */
function generateRounds(seed: number): ModelEvent[][] {
  const next = random(seed);
  const pick = (n: number) => Math.floor(next() * n);
  const used = new Set<number>();
  let clock = Math.floor(Date.now() / DAY) * DAY - 10 * DAY + 20 * 3_600_000;
  return Array.from({ length: ROUNDS }, () =>
    Array.from({ length: PER_ROUND }, () => {
      clock += pick(3) * MINUTE + 1;
      const kind = next();
      let ts = clock;
      if (kind < 0.15) ts = clock - pick(180) * MINUTE;
      else if (kind < 0.22) ts = clock - (1 + pick(4)) * DAY;
      while (used.has(ts)) ts++;
      used.add(ts);
      const board = BOARDS[pick(BOARDS.length)]!;
      const event: ModelEvent = {
        board: next() < 0.03 ? 'ghost' : board.id,
        userId: `user-${pick(40)}`,
        value: board.policy === 'sum' ? pick(60) - 10 : pick(1000),
        ts,
      };
      if (next() < 0.25) event.eventId = `e${pick(300)}`;
      return event;
    }),
  );
}

describe('worker processes killed and paused while events keep coming', () => {
  let redis: Redis;
  let name: string;
  let writer: EventWriter;
  const children: WorkerChild[] = [];

  beforeEach(() => {
    redis = connect();
    name = uniqueName('wp');
    writer = new EventWriter(redis, { name, partitions: PARTITIONS });
  });

  afterEach(async () => {
    writer.close();
    for (const child of children.splice(0)) {
      if (child.process.exitCode === null && child.process.signalCode === null) {
        child.process.kill('SIGCONT');
        child.process.kill('SIGKILL');
      }
    }
    await dropKeys(redis, name);
    await redis.quit();
  });

  const start = async (): Promise<WorkerChild> => {
    const child = spawnWorker(name);
    children.push(child);
    await waitUntil(
      () => {
        if (child.process.exitCode !== null) throw new Error(`worker exited with ${child.process.exitCode}`);
        return child.messages.some((m) => m.type === 'started');
      },
      30_000,
      'a worker process started',
    );
    return child;
  };

  it('counts every event exactly once through SIGKILL, a replacement, and SIGSTOP past the lease', async () => {
    const registry = new BoardRegistry(redis, name);
    for (const board of BOARDS) await registry.put(board);
    const rounds = generateRounds(20_251_123);

    const [a, b] = await Promise.all([start(), start()]);
    // Both hold partitions before the faults, so each fault takes batches in hand with it.
    await waitUntil(() => a!.owned().size > 0 && b!.owned().size > 0, 30_000, 'both workers own partitions');

    let replacement: Promise<WorkerChild> | undefined;
    let pause: Promise<void> | undefined;
    let messagesBeforePause = 0;
    for (const [i, round] of rounds.entries()) {
      await writer.append(round);
      // Right after a round is appended, the workers have batches of it in hand.
      if (i === 4) {
        a!.process.kill('SIGKILL');
        replacement = start();
      }
      if (i === 8) {
        await waitUntil(() => b!.owned().size > 0, 30_000, 'the worker to pause owns partitions');
        messagesBeforePause = b!.messages.length;
        b!.process.kill('SIGSTOP');
        pause = sleep(2.5 * LEASE_MS).then(() => {
          b!.process.kill('SIGCONT');
        });
      }
      await sleep(120);
    }
    await Promise.all([replacement, pause]);
    // The paused worker lost its leases; back, it takes its share again, under new epochs.
    await waitUntil(
      () => b!.messages.slice(messagesBeforePause).some((m) => m.type === 'assigned'),
      30_000,
      'the paused worker to own partitions again',
    );
    await waitUntil(() => drained(redis, name, 'workers', PARTITIONS), 60_000, 'the group drained');

    const events = rounds.flat();
    const model = new LeaderboardModel(new Map(BOARDS.map((board) => [board.id, board])), PARTITIONS);
    model.apply(events);
    for (const board of BOARDS) {
      for (const window of board.windows) {
        const keys = new Set(
          events
            .filter((e) => e.board === board.id)
            .map((e) => windowKey(window, windowFor(window, e.ts).start)),
        );
        for (const key of keys) {
          expect(await scoreTable(redis, name, PARTITIONS, board.id, key), `${board.id} ${key}`).toEqual(
            model.table(board.id, key),
          );
        }
      }
    }
    let deadLetters = 0;
    const late = new Set<string>();
    for (let p = 0; p < PARTITIONS; p++) {
      deadLetters += await redis.xlen(`{${name}:${p}}:dlq`);
      for (const [, fields] of await redis.xrange(`{${name}:${p}}:late`, '-', '+')) {
        late.add(`${p}/${fields[fields.indexOf('entry') + 1]}`);
      }
    }
    expect(deadLetters, 'dead letters: the unknown board’s events, once each').toBe(model.unknown.length);
    expect(late.size, 'events recorded as late').toBe(model.late.length);
    expect(a!.process.signalCode, 'the killed worker').toBe('SIGKILL');
    expect(b!.messages.slice(messagesBeforePause), 'the paused worker lost its leases').toContainEqual(
      expect.objectContaining({ type: 'revoked', reason: 'lease-lost' }),
    );
  }, 120_000);
});
