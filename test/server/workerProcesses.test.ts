/**
 * `leaderboard work --processes 2`: two worker processes under one supervisor share the
 * partitions, apply what is appended, a worker that dies is replaced, and SIGTERM stops them all.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { membersKey } from 'redis-streams-consumer-groups';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { DEFAULTS, EventWriter } from '../../leaderboard/index.js';
import { drained } from '../support/leaderboardState.js';
import { connect, dropKeys, redisUrl, uniqueName } from '../support/redis.js';

const CLI = fileURLToPath(new URL('../fixtures/cli.ts', import.meta.url));
const PARTITIONS = 4;

/** The pids of a process's worker children (not tsx's esbuild service, say). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes('work --processes 1'))
      .map((line) => Number.parseInt(line.trim(), 10));
  } catch {
    return []; // ps exits 1 when there are none
  }
}

describe('leaderboard work --processes 2', () => {
  let redis: Redis;
  let name: string;
  let supervisor: ChildProcess | undefined;
  let dataDir: string;
  beforeEach(() => {
    redis = connect();
    name = uniqueName('wp');
    dataDir = mkdtempSync(join(tmpdir(), 'lb-wp-'));
  });
  afterEach(async () => {
    if (supervisor && supervisor.exitCode === null) {
      for (const pid of childrenOf(supervisor.pid!)) process.kill(pid, 'SIGKILL');
      supervisor.kill('SIGKILL');
    }
    await dropKeys(redis, name);
    await redis.quit();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const liveMembers = () => redis.zrangebyscore(membersKey(name, DEFAULTS.group), Date.now(), '+inf');

  it('shares the partitions between two processes, replaces one that dies, and stops on SIGTERM', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: redisUrl(),
      KEY_PREFIX: name,
      PARTITIONS: String(PARTITIONS),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
    };
    delete env.REDIS_CLUSTER;
    delete env.REDIS_SENTINELS;
    delete env.DATABASE_URL; // the supervisor's own PGlite, which its workers archive through
    supervisor = spawn(process.execPath, ['--import', 'tsx', CLI, 'work', '--processes', '2'], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => supervisor!.once('exit', (code) => resolve(code)));
    await waitUntil(async () => (await liveMembers()).length === 2, 30_000, 'two worker processes');
    const pids = childrenOf(supervisor.pid!);
    expect(pids).toHaveLength(2);

    const writer = new EventWriter(redis, { name, partitions: PARTITIONS });
    await writer.append(
      Array.from({ length: 200 }, (_, i) => ({ board: 'global', userId: `u${i}`, value: 1, ts: Date.now() })),
    );
    writer.close();
    await waitUntil(() => drained(redis, name, DEFAULTS.group, PARTITIONS), 30_000, 'the events applied');

    process.kill(pids[0]!, 'SIGKILL');
    await waitUntil(
      () => {
        const now = childrenOf(supervisor!.pid!);
        return now.length === 2 && !now.includes(pids[0]!);
      },
      30_000,
      'a replacement worker process',
    );

    supervisor.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(childrenOf(supervisor.pid!)).toEqual([]);
    for (const pid of pids.slice(1)) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('refuses to start without a configured Redis', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };
    delete env.REDIS_URL;
    delete env.REDIS_CLUSTER;
    delete env.REDIS_SENTINELS;
    let message = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', CLI, 'work', '--processes', '2'], {
        env,
        stdio: 'pipe',
      });
    } catch (error) {
      message = String((error as { stderr: Buffer }).stderr);
    }
    expect(message).toContain('work needs the Redis the service uses');
  });
});
