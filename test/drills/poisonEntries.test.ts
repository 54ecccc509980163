/**
 * Drill 5: poison entries. Events for a board that does not exist yet, and entries no event
 * decoder accepts, are dead-lettered while the rest flow; `leaderboard dlq list` shows them with
 * their reasons; once the board is created, `leaderboard dlq redrive --id ...` sends its events
 * through again and they count exactly once, and a later `leaderboard replay` of that board
 * (which skips the dead-lettered originals) still equals the model.
 */
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { type DeadLetter, partitionKeys } from 'redis-streams-consumer-groups';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { type BoardConfig, BoardRegistry, EventWriter, LeaderboardWorkers } from '../../leaderboard/index.js';
import { deadLettersCommand } from '../../server/commands/deadLetters.js';
import { loadConfig } from '../../server/config.js';
import { LeaderboardModel, type ModelEvent } from '../support/leaderboardModel.js';
import { drained, scoreTable } from '../support/leaderboardState.js';
import { connect, dropKeys, redisUrl, uniqueName } from '../support/redis.js';

const PARTITIONS = 4;
const CLI = fileURLToPath(new URL('../fixtures/cli.ts', import.meta.url));
const run = promisify(execFile);

const TOURNAMENT: BoardConfig = {
  id: 'tournament',
  policy: 'sum',
  order: 'desc',
  windows: ['all'],
  topK: 10,
  graceSeconds: 0,
  retentionDays: 30,
};

describe('drill 5: poison entries dead-lettered, listed, re-driven after a fix', () => {
  let redis: Redis;
  let name: string;
  let writer: EventWriter;
  let workers: LeaderboardWorkers;

  beforeEach(async () => {
    redis = connect();
    name = uniqueName('poison');
    writer = new EventWriter(redis, { name, partitions: PARTITIONS });
    const registry = new BoardRegistry(redis, name);
    await registry.put({ ...TOURNAMENT, id: 'points' });
    workers = new LeaderboardWorkers({
      redis,
      boards: registry,
      name,
      partitions: PARTITIONS,
      refreshMs: 20,
      consumer: { leaseMs: 2000, blockMs: 20 },
    });
    await workers.start();
  });

  afterEach(async () => {
    writer.close();
    await workers.stop();
    await dropKeys(redis, name);
    await redis.quit();
  });

  const cli = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: { ...process.env, REDIS_URL: redisUrl(), KEY_PREFIX: name, PARTITIONS: String(PARTITIONS) },
    });
    return stdout;
  };
  const waitDrained = () => waitUntil(() => drained(redis, name, 'workers', PARTITIONS), 30_000, 'drained');

  it('lists them with reasons and counts the re-driven ones exactly once', async () => {
    const now = Date.now();
    const events: ModelEvent[] = [];
    for (let i = 0; i < 300; i++) {
      events.push({
        board: i % 5 === 0 ? 'tournament' : 'points',
        userId: `u${i % 17}`,
        value: (i % 9) + 1,
        ts: now - i,
        ...(i % 7 === 0 ? { eventId: `e${i % 21}` } : {}),
      });
    }
    await writer.append(events);
    // Two entries no decoder accepts, written around the edge's validation in the field-by-field
    // layout: a value that is no number, and an entry without its value and time.
    const garbled = [
      await redis.xadd(
        partitionKeys(name, 1).stream,
        '*',
        'b',
        'points',
        'u',
        'x',
        'v',
        'lots',
        't',
        String(now),
      ),
      await redis.xadd(partitionKeys(name, 2).stream, '*', 'b', 'points', 'u', 'y'),
    ];
    await waitDrained();

    const listed = JSON.parse(await cli('dlq', 'list', '--json')) as DeadLetter[];
    const tournamentEvents = events.filter((e) => e.board === 'tournament');
    expect(listed).toHaveLength(tournamentEvents.length + garbled.length);
    const unknown = listed.filter((l) => l.reason === "unknown board 'tournament'");
    expect(unknown).toHaveLength(tournamentEvents.length);
    expect(listed.filter((l) => garbled.includes(l.originId)).map((l) => l.reason)).toEqual([
      "value: 'lots' is not a finite number",
      'entry: neither s nor b, u, v, t fields',
    ]);
    const table = await cli('dlq', 'list');
    expect(table).toContain(`${listed.length} dead letters`);
    // The board, user and value of each letter, read from the edge's compact layout too.
    expect(table).toMatch(/tournament\/u\d+ v=\d/);
    expect(table).toContain('points/x v=lots');
    expect(await scoreTable(redis, name, PARTITIONS, 'tournament', 'all:0')).toEqual({});

    // The fix: the board is created. Then its dead letters are re-driven, the garbled ones kept.
    await new BoardRegistry(redis, name).put(TOURNAMENT);
    // A dead letter's id is its partition's: two partitions may hold the same one (letters written
    // in the same millisecond), so the ids are given with their partition.
    let redriven = 0;
    for (const p of new Set(unknown.map((l) => l.partition))) {
      const ids = unknown.filter((l) => l.partition === p).flatMap((l) => ['--id', l.id]);
      const said = await cli('dlq', 'redrive', '--partition', String(p), ...ids);
      redriven += Number(/re-drove (\d+) dead letter/.exec(said)?.[1]);
    }
    expect(redriven).toBe(unknown.length);
    await waitDrained();

    const model = new LeaderboardModel(
      new Map([
        ['points', { ...TOURNAMENT, id: 'points' }],
        ['tournament', TOURNAMENT],
      ]),
      PARTITIONS,
    );
    model.apply(events);
    const expected = model.table('tournament', 'all:0');
    expect(Object.keys(expected).length).toBeGreaterThan(5);
    expect(await scoreTable(redis, name, PARTITIONS, 'tournament', 'all:0')).toEqual(expected);
    expect(await scoreTable(redis, name, PARTITIONS, 'points', 'all:0')).toEqual(
      model.table('points', 'all:0'),
    );
    const left = JSON.parse(await cli('dlq', 'list', '--json')) as DeadLetter[];
    expect(left.map((l) => l.originId).sort()).toEqual([...garbled].sort());

    // A replay reads both the original entries and their re-driven copies: only the copies count.
    const replayed = await cli('replay', '--board', 'tournament');
    expect(replayed).toMatch(/swapped in: all:0/);
    expect(await scoreTable(redis, name, PARTITIONS, 'tournament', 'all:0')).toEqual(expected);
  }, 90_000);

  it('re-drives an --id only in the partition that holds it, and refuses one two partitions hold', async () => {
    const config = loadConfig({ REDIS_URL: redisUrl(), KEY_PREFIX: name, PARTITIONS: String(PARTITIONS) });
    const letter = (p: number, id: string, user: string) =>
      redis.xadd(
        partitionKeys(name, p).dlq,
        id,
        'b',
        'nope',
        'u',
        user,
        'dlq.origin',
        `${id}`,
        'dlq.reason',
        'test',
      );
    await letter(1, '5-1', 'a');
    await letter(2, '5-1', 'b');
    await letter(3, '5-2', 'c');
    const run = async (...args: string[]) => {
      let text = '';
      const out = new Writable({
        write(chunk, _, done) {
          text += String(chunk);
          done();
        },
      });
      const code = await deadLettersCommand(args, config, out);
      return { code, text };
    };

    await expect(run('redrive', '--id', '5-1', '--id', '5-2')).rejects.toThrow(
      'dead letter ids in more than one partition: 5-1 (partitions 1, 2); give --partition',
    );
    // (The workers dead-letter a re-driven one again, under a new id: these look for the ids.)
    const holds = async (p: number, id: string) =>
      (await redis.xrange(partitionKeys(name, p).dlq, id, id)).length === 1;
    expect([await holds(1, '5-1'), await holds(2, '5-1'), await holds(3, '5-2')]).toEqual([true, true, true]);

    expect(await run('redrive', '--id', '5-2', '--id', '9-9')).toEqual({
      code: 1,
      text: 're-drove 1 dead letter\n1 of the given ids were not found\n',
    });
    expect(await holds(3, '5-2')).toBe(false);
    expect(await run('redrive', '--partition', '2', '--id', '5-1')).toEqual({
      code: 0,
      text: 're-drove 1 dead letter\n',
    });
    expect([await holds(1, '5-1'), await holds(2, '5-1')]).toEqual([true, false]);
  });
});
