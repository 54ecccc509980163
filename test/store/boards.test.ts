import { describe, expect, it } from 'vitest';
import type { BoardConfig } from '../../leaderboard/index.js';
import { listBoards, saveBoard } from '../../leaderboard/store/boards.js';
import { StoreInputError } from '../../leaderboard/store/storeInputError.js';
import { ENGINES, unique, useStore } from './engines.js';

const config = (id: string, change: Partial<BoardConfig> = {}): BoardConfig => ({
  id,
  policy: 'sum',
  order: 'desc',
  windows: ['all', 'day', 'week', 'month'],
  topK: 100,
  graceSeconds: 300,
  retentionDays: 30,
  tieBreak: 'shared',
  timeZone: 'UTC',
  ...change,
});

describe.each(ENGINES)('boards on $name', (engine) => {
  const store = useStore(engine);

  it('saves a board, tells a new one from a replaced one, and lists the latest config', async () => {
    const id = unique('b');
    expect(await saveBoard(store.db, config(id))).toEqual({ created: true });
    expect(await saveBoard(store.db, config(id, { policy: 'max', order: 'asc', windows: ['day'] }))).toEqual({
      created: false,
    });
    const saved = (await listBoards(store.db)).filter((b) => b.id === id);
    expect(saved).toEqual([config(id, { policy: 'max', order: 'asc', windows: ['day'] })]);
  });

  it('lists boards sorted by id and keeps only the fields of a BoardConfig', async () => {
    const prefix = unique('b');
    await saveBoard(store.db, config(`${prefix}-z`));
    await saveBoard(store.db, { ...config(`${prefix}-a`), extra: 'dropped' } as BoardConfig);
    const mine = (await listBoards(store.db)).filter((b) => b.id.startsWith(prefix));
    expect(mine.map((b) => b.id)).toEqual([`${prefix}-a`, `${prefix}-z`]);
    expect(Object.keys(mine[0]!).sort()).toEqual(Object.keys(config('x')).sort());
  });

  it.each([
    ['an id with capitals', { id: 'Global' }, 'id'],
    ['an empty id', { id: '' }, 'id'],
    ['an unknown policy', { policy: 'avg' as never }, 'policy'],
    ['an unknown order', { order: 'up' as never }, 'order'],
    ['no windows', { windows: [] }, 'windows'],
    ['a repeated window', { windows: ['day', 'day'] as BoardConfig['windows'] }, 'windows'],
    ['an unknown window', { windows: ['year'] as never }, 'windows[0]'],
    ['topK 0', { topK: 0 }, 'topK'],
    ['a negative grace', { graceSeconds: -1 }, 'graceSeconds'],
    ['a fractional retention', { retentionDays: 1.5 }, 'retentionDays'],
  ])('rejects %s and saves nothing', async (_, change, field) => {
    const id = unique('b');
    const error = await saveBoard(store.db, config(id, change)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreInputError);
    expect((error as StoreInputError).field).toBe(field);
    expect((await listBoards(store.db)).some((b) => b.id === id)).toBe(false);
  });
});
