/**
 * Board configurations: validated with one schema, kept in Redis (`lb:boards`) where every
 * process reads them, announced on a channel when they change, and cached in memory so the
 * pipeline's lookups are synchronous.
 */
import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import { BOARD_ID } from '../operators/eventCodec.js';
import { boardsKey } from '../operators/stateKeys.js';
import type { BoardConfig } from '../operators/types.js';

export const boardConfigSchema = z
  .object({
    id: z.string().regex(BOARD_ID, 'board id must match ^[a-z0-9][a-z0-9_-]{0,63}$'),
    policy: z.enum(['sum', 'max', 'min', 'last']).default('sum'),
    order: z.enum(['desc', 'asc']).default('desc'),
    windows: z
      .array(z.enum(['all', 'day', 'week', 'month']))
      .min(1, 'a board keeps at least one window')
      .refine((w) => new Set(w).size === w.length, 'windows must not repeat')
      .default(['all', 'day', 'week', 'month']),
    topK: z.number().int().min(1).max(1000).default(100),
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(300),
    retentionDays: z.number().int().min(1).max(3650).default(30),
  })
  .strict();

/** The board a fresh start has, so the service is usable at once. */
export const DEFAULT_BOARD: BoardConfig = {
  id: 'global',
  policy: 'sum',
  order: 'desc',
  windows: ['all', 'day', 'week', 'month'],
  topK: 100,
  graceSeconds: 300,
  retentionDays: 30,
};

/** Changing a board's policy or order would mix two meanings in one set of scores. */
export class BoardConflictError extends Error {
  constructor(board: string, field: 'policy' | 'order') {
    super(`board '${board}' already exists with another ${field}; create a new board instead`);
    this.name = 'BoardConflictError';
  }
}

/**
 * @example
 * const boards = new BoardRegistry(redis, 'lb');
 * await boards.load();
 * boards.get('global')?.policy; // 'sum'
 */
export class BoardRegistry {
  private boards = new Map<string, BoardConfig>();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly name: string,
  ) {}

  /** Reads every board from Redis, creating the default board on a fresh start. */
  async load(): Promise<void> {
    await this.redis.hsetnx(boardsKey(this.name), DEFAULT_BOARD.id, JSON.stringify(DEFAULT_BOARD));
    const raw = await this.redis.hgetall(boardsKey(this.name));
    this.boards = new Map(Object.entries(raw).map(([id, json]) => [id, JSON.parse(json) as BoardConfig]));
  }

  /** The board's configuration, from memory. */
  get(id: string): BoardConfig | undefined {
    return this.boards.get(id);
  }

  /** Whether every id is known, reloading once from Redis if one is not (a board just created). */
  async knowsAll(ids: Iterable<string>): Promise<boolean> {
    const missing = () => [...ids].some((id) => !this.boards.has(id));
    if (!missing()) return true;
    await this.load();
    return !missing();
  }

  list(): BoardConfig[] {
    return [...this.boards.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /**
   * Creates or updates a board. Window, K, grace and retention may change; policy and order may not.
   * @throws BoardConflictError when the policy or order of an existing board would change.
   */
  async put(config: BoardConfig): Promise<{ created: boolean; board: BoardConfig }> {
    await this.load();
    const existing = this.boards.get(config.id);
    if (existing && existing.policy !== config.policy) throw new BoardConflictError(config.id, 'policy');
    if (existing && existing.order !== config.order) throw new BoardConflictError(config.id, 'order');
    await this.redis.hset(boardsKey(this.name), config.id, JSON.stringify(config));
    this.boards.set(config.id, config);
    return { created: !existing, board: config };
  }
}
