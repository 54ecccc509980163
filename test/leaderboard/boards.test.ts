import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type BoardConfig,
  BoardConflictError,
  BoardLimitError,
  BoardRegistry,
} from '../../leaderboard/index.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';

const board = (id: string, change: Partial<BoardConfig> = {}): BoardConfig => ({
  id,
  policy: 'sum',
  order: 'desc',
  windows: ['all'],
  topK: 10,
  graceSeconds: 0,
  retentionDays: 1,
  tieBreak: 'shared',
  timeZone: 'UTC',
  ...change,
});

/** The commands one client sends, as Redis sees them (MONITOR), while `work` runs. */
async function commandsOf(client: Redis, work: () => Promise<void>): Promise<string[][]> {
  const watcher = new Redis(redisUrl());
  const monitor = await watcher.monitor();
  const seen: string[][] = [];
  const port = client.stream.localPort;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source.endsWith(`:${port}`)) seen.push(args);
  });
  await work();
  // A marker through the monitored client: every command before it has been seen.
  const marker = `marker-${Math.random()}`;
  await client.echo(marker);
  while (!seen.some((args) => args[1] === marker)) await new Promise((r) => setTimeout(r, 5));
  monitor.disconnect();
  watcher.disconnect();
  return seen.filter((args) => args[1] !== marker).map((args) => [args[0]!.toLowerCase(), ...args.slice(1)]);
}

describe('the board registry', () => {
  let name: string;
  const clients: Redis[] = [];
  const client = () => {
    const redis = new Redis(redisUrl());
    clients.push(redis);
    return redis;
  };
  beforeEach(() => {
    name = uniqueName('br');
  });
  afterEach(async () => {
    const redis = client();
    await dropKeys(redis, name);
    for (const c of clients.splice(0)) c.disconnect();
  });

  it('sees a board another process created, by reading only what changed', async () => {
    const here = new BoardRegistry(client(), name);
    const there = new BoardRegistry(client(), name);
    await here.load();
    await there.load();
    for (let i = 0; i < 50; i++) await there.put(board(`b${i}`));
    const redis = client();
    const mine = new BoardRegistry(redis, name);
    await mine.load();
    await there.put(board('late', { topK: 3 }));
    const sent = await commandsOf(redis, async () => {
      expect(await mine.knowsAll(['late'])).toBe(true);
    });
    expect(mine.get('late')?.topK).toBe(3);
    // The version, the one change, that one board: no read of every board.
    expect(sent.map((c) => c[0])).toEqual(['hmget', 'zrangebyscore', 'hmget']);
    expect(sent[2]).toContain('late');
    expect(await here.knowsAll(['late', 'b49'])).toBe(true);
    expect(here.size).toBe(52); // 50, late, and the default board
  });

  it('answers an unknown board with one small read, however many boards there are', async () => {
    const writer = new BoardRegistry(client(), name);
    await writer.load();
    for (let i = 0; i < 300; i++) await writer.put(board(`b${i}`));
    const redis = client();
    const registry = new BoardRegistry(redis, name);
    await registry.load();
    const sent = await commandsOf(redis, async () => {
      for (let i = 0; i < 5; i++) expect(await registry.knowsAll([`nope${i}`])).toBe(false);
    });
    expect(sent).toEqual(
      Array.from({ length: 5 }, () => ['hmget', `{${name}:boards}:meta`, 'version', 'epoch']),
    );
  });

  it('shares one read among the lookups that wait together', async () => {
    const redis = client();
    const registry = new BoardRegistry(redis, name);
    await registry.load();
    const sent = await commandsOf(redis, async () => {
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) => registry.knowsAll([`nope${i}`])),
      );
      expect(answers.every((known) => !known)).toBe(true);
    });
    // The first lookup's read, and one more for all that asked while it ran.
    expect(sent.length).toBeLessThanOrEqual(2);
    expect(sent.every((c) => c[0] === 'hmget')).toBe(true);
  });

  it('lets exactly one of two processes create a board when they disagree on its policy', async () => {
    for (let round = 0; round < 10; round++) {
      const a = new BoardRegistry(client(), name);
      const b = new BoardRegistry(client(), name);
      await Promise.all([a.load(), b.load()]);
      const id = `race${round}`;
      const results = await Promise.allSettled([
        a.put(board(id, { policy: 'max' })),
        b.put(board(id, { policy: 'min' })),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(BoardConflictError);
      const fresh = new BoardRegistry(client(), name);
      await fresh.load();
      expect(fresh.get(id)?.policy).toBe(
        (won[0] as PromiseFulfilledResult<{ board: BoardConfig }>).value.board.policy,
      );
    }
  });

  it('refuses a new board past its maximum and still updates existing ones', async () => {
    const registry = new BoardRegistry(client(), name, { maxBoards: 3 });
    await registry.load(); // the default board is one
    await registry.put(board('two'));
    await registry.put(board('three'));
    await expect(registry.put(board('four'))).rejects.toBeInstanceOf(BoardLimitError);
    expect(await registry.put(board('two', { topK: 5 }))).toMatchObject({ created: false });
    const fresh = new BoardRegistry(client(), name);
    await fresh.load();
    expect(fresh.list().map((b) => b.id)).toEqual(['global', 'three', 'two']);
    expect(fresh.get('two')?.topK).toBe(5);
  });

  it('puts the durable copy back when Redis lost the boards, at start and while running', async () => {
    const durable = [board('kept', { policy: 'max' }), board('global', { topK: 7 })];
    const redis = client();
    const registry = new BoardRegistry(redis, name, { seed: async () => durable });
    await registry.load();
    expect(registry.get('kept')?.policy).toBe('max');
    expect(registry.get('global')?.topK).toBe(7); // the saved default board, not a fresh one
    await registry.put(board('later'));
    durable.push(board('later'));
    await dropKeys(redis, name); // what a Redis restart without persistence leaves
    await registry.sync();
    expect(registry.list().map((b) => b.id)).toEqual(['global', 'kept', 'later']);
    const other = new BoardRegistry(client(), name);
    await other.load();
    expect(other.list().map((b) => b.id)).toEqual(['global', 'kept', 'later']);
  });

  it('pages through the boards in id order, with a board created between pages', async () => {
    const registry = new BoardRegistry(client(), name);
    await registry.load();
    for (const id of ['d', 'b', 'f', 'a']) await registry.put(board(id));
    const first = registry.page(2);
    expect(first.boards.map((b) => b.id)).toEqual(['a', 'b']);
    await registry.put(board('c'));
    const second = registry.page(2, first.next!);
    expect(second.boards.map((b) => b.id)).toEqual(['c', 'd']);
    const last = registry.page(2, second.next!);
    expect(last).toEqual({ boards: [registry.get('f'), registry.get('global')], next: null });
    expect(registry.page(5, 'global')).toEqual({ boards: [], next: null });
  });
});
