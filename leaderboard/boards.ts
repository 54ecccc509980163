/**
 * The board registry: configurations validated with one schema, kept in Redis (`lb:boards`)
 * where every process reads them, and cached in memory so the pipeline's lookups are synchronous.
 * Each board is a group of the leaderboard pipeline: the registry is the pipeline's group source.
 */
import type { Cluster, Redis } from 'ioredis';
import type { GroupSettings, GroupSource } from '../topology/index.js';
import { type BoardConfig, DEFAULT_BOARD, FIXED_FIELDS, groupSettings } from './boardConfig.js';
import { boardsKey } from './keys.js';

/** Changing a board's policy, order, tie rule or time zone would mix two meanings in one set of scores. */
export class BoardConflictError extends Error {
  constructor(board: string, field: (typeof FIXED_FIELDS)[number]) {
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
export class BoardRegistry implements GroupSource {
  readonly noun = 'board';
  private boards = new Map<string, BoardConfig>();
  /** Each board's group settings, while its config object stays the same. */
  private readonly settingsOf = new WeakMap<BoardConfig, GroupSettings>();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly name: string,
  ) {}

  /** Reads every board from Redis, creating the default board on a fresh start. */
  async load(): Promise<void> {
    await this.redis.hsetnx(boardsKey(this.name), DEFAULT_BOARD.id, JSON.stringify(DEFAULT_BOARD));
    const raw = await this.redis.hgetall(boardsKey(this.name));
    const next = new Map<string, BoardConfig>();
    for (const [id, json] of Object.entries(raw)) {
      const known = this.boards.get(id);
      // Keep the object when nothing changed: the pipeline's specs are remembered per object.
      next.set(id, known && JSON.stringify(known) === json ? known : (JSON.parse(json) as BoardConfig));
    }
    this.boards = next;
  }

  /** The board's configuration, from memory. */
  get(id: string): BoardConfig | undefined {
    return this.boards.get(id);
  }

  /** The pipeline group of a board (GroupSource). */
  settings(id: string): GroupSettings | undefined {
    const board = this.boards.get(id);
    if (!board) return undefined;
    let settings = this.settingsOf.get(board);
    if (!settings) {
      settings = groupSettings(board);
      this.settingsOf.set(board, settings);
    }
    return settings;
  }

  /** Reloads when a batch names boards this process does not know yet (GroupSource). */
  async refresh(): Promise<void> {
    await this.load();
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
   * Creates or updates a board. Windows, K, grace, retention and bounds may change (bounds apply to
   * events from then on: scores already counted stay as they are); policy, order, tie rule and
   * time zone may not.
   * @throws BoardConflictError when one of those would change on an existing board.
   */
  async put(config: BoardConfig): Promise<{ created: boolean; board: BoardConfig }> {
    await this.load();
    const existing = this.boards.get(config.id);
    for (const field of FIXED_FIELDS) {
      // Boards saved before a field existed have its default.
      const before = existing?.[field] ?? DEFAULT_BOARD[field];
      if (existing && before !== (config[field] ?? DEFAULT_BOARD[field]))
        throw new BoardConflictError(config.id, field);
    }
    await this.redis.hset(boardsKey(this.name), config.id, JSON.stringify(config));
    this.boards.set(config.id, config);
    return { created: !existing, board: config };
  }
}
