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
import { partitionKeys } from 'redis-streams-consumer-groups';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { BoardRegistry, EventWriter } from '../../leaderboard/index.js';
import { stateKeys } from '../../operators/stateKeys.js';
import { generateRounds, MODEL_BOARDS } from '../support/eventRounds.js';
import { drained, expectModelState } from '../support/leaderboardState.js';
import { connect, dropKeys, redisUrl, uniqueName } from '../support/redis.js';

const PARTITIONS = 8;
const LEASE_MS = 1000;
const ROUNDS = 30;
const PER_ROUND = 200;
const FIXTURE = fileURLToPath(new URL('../fixtures/workerProcess.ts', import.meta.url));

const BOARDS = MODEL_BOARDS;

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
    const rounds = generateRounds(20_251_123, { rounds: ROUNDS, perRound: PER_ROUND });

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
    const { model } = await expectModelState(redis, name, PARTITIONS, BOARDS, events);
    let deadLetters = 0;
    const late = new Set<string>();
    for (let p = 0; p < PARTITIONS; p++) {
      deadLetters += await redis.xlen(partitionKeys(name, p).dlq);
      for (const [, fields] of await redis.xrange(stateKeys(name, p).late, '-', '+')) {
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
