/**
 * The board registry: configurations validated with one schema, kept in Redis (`lb:boards`)
 * where every process reads them, and cached in memory so the pipeline's lookups are synchronous.
 * Each board is a group of the leaderboard pipeline: the registry is the pipeline's group source.
 *
 * Every change bumps the registry's version and logs the board's id at that version (one script,
 * `lua/putBoard-3.lua`), so a process catches up by reading the version (one command) and, when it
 * moved, the boards that changed since the version it knows: never every board. An id this process
 * does not know is unknown as long as the version has not moved, which is how a flood of requests
 * for boards that do not exist costs one small read each (shared by the requests that wait
 * together), whatever the number of boards.
 */
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis, Result } from 'ioredis';
import { defineScripts, readScripts, type ScriptSource } from 'redis-streams-consumer-groups';
import type { GroupSettings, GroupSource } from '../topology/index.js';
import { type BoardConfig, DEFAULT_BOARD, FIXED_FIELDS, groupSettings } from './boardConfig.js';
import { boardsChangesKey, boardsKey, boardsMetaKey } from './keys.js';

/** The most boards a registry holds unless told otherwise. */
export const DEFAULT_MAX_BOARDS = 10_000;

/** Changing a board's policy, order, tie rule or time zone would mix two meanings in one set of scores. */
export class BoardConflictError extends Error {
  constructor(board: string, field: string) {
    super(`board '${board}' already exists with another ${field}; create a new board instead`);
    this.name = 'BoardConflictError';
  }
}

/** The registry holds its maximum number of boards; an existing board can still be updated. */
export class BoardLimitError extends Error {
  constructor(readonly maxBoards: number) {
    super(`the service holds its maximum of ${maxBoards} boards (MAX_BOARDS); no new board can be created`);
    this.name = 'BoardLimitError';
  }
}

export interface BoardRegistryOptions {
  /** The most boards the registry holds (default {@link DEFAULT_MAX_BOARDS}). */
  maxBoards?: number;
  /**
   * Boards to put back when Redis holds none (a fresh start, or a Redis that lost its data): the
   * durable copy. Existing boards are never overwritten by it.
   */
  seed?: () => Promise<BoardConfig[]>;
}

/** One page of the boards, sorted by id; `next` is the `after` of the next page. */
export interface BoardPage {
  boards: BoardConfig[];
  next: string | null;
}

type PutReply = [number, number, string] | ['conflict', string] | ['full', number];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    putBoard(boards: string, meta: string, changes: string, ...args: string[]): Result<PutReply, Context>;
  }
}

let scripts: ScriptSource[] | undefined;

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
  private readonly maxBoards: number;
  /** The registry's version and epoch this process has caught up to. */
  private version = 0;
  private epoch = '';
  private sortedIds: string[] | undefined;
  private syncing: Promise<void> | undefined;
  private nextSync: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly name: string,
    private readonly options: BoardRegistryOptions = {},
  ) {
    this.maxBoards = options.maxBoards ?? DEFAULT_MAX_BOARDS;
    scripts ??= readScripts(fileURLToPath(new URL('./lua/', import.meta.url)));
    defineScripts(redis, scripts);
  }

  /**
   * Reads every board from Redis: at start. Creates the default board on a fresh start, after
   * putting back the seed's boards when Redis holds none.
   */
  async load(): Promise<void> {
    if ((await this.redis.hlen(boardsKey(this.name))) === 0 && this.options.seed) {
      for (const board of await this.options.seed()) await this.write(board, 'ensure');
    }
    await this.write(DEFAULT_BOARD, 'ensure');
    // The version first: a change after it is read again by the next sync.
    const [version, epoch] = await this.redis.hmget(boardsMetaKey(this.name), 'version', 'epoch');
    const raw = await this.redis.hgetall(boardsKey(this.name));
    const next = new Map<string, BoardConfig>();
    for (const [id, json] of Object.entries(raw)) next.set(id, this.parsed(id, json));
    this.boards = next;
    this.sortedIds = undefined;
    this.version = Number(version ?? 0);
    this.epoch = epoch ?? '';
  }

  /**
   * Catches up with the changes other processes made: one read when nothing changed, plus the
   * changed boards otherwise. Calls made while one runs share the next one (which starts after
   * they asked, so it sees every change made before they asked).
   */
  sync(): Promise<void> {
    if (!this.syncing) {
      this.syncing = this.catchUp().finally(() => {
        this.syncing = undefined;
      });
      return this.syncing;
    }
    this.nextSync ??= this.syncing
      .catch(() => {})
      .then(() => {
        this.nextSync = undefined;
        return this.sync();
      });
    return this.nextSync;
  }

  private async catchUp(): Promise<void> {
    const [rawVersion, epoch] = await this.redis.hmget(boardsMetaKey(this.name), 'version', 'epoch');
    const version = Number(rawVersion ?? 0);
    if (version === this.version && (epoch ?? '') === this.epoch) return;
    // A new registry (Redis lost its data, or it was never set up): read it whole.
    if ((epoch ?? '') !== this.epoch || version < this.version) return this.load();
    const changes = await this.redis.zrangebyscore(
      boardsChangesKey(this.name),
      `(${this.version}`,
      '+inf',
      'WITHSCORES',
    );
    let caughtUp = version;
    const ids: string[] = [];
    for (let i = 0; i < changes.length; i += 2) {
      ids.push(changes[i]!);
      caughtUp = Math.max(caughtUp, Number(changes[i + 1]));
    }
    if (ids.length > 0) {
      const configs = await this.redis.hmget(boardsKey(this.name), ...ids);
      for (const [i, id] of ids.entries()) this.remember(id, configs[i] ?? null);
    }
    this.version = Math.max(this.version, caughtUp);
  }

  private remember(id: string, json: string | null): void {
    if (json === null) {
      if (this.boards.delete(id)) this.sortedIds = undefined;
      return;
    }
    if (!this.boards.has(id)) this.sortedIds = undefined;
    this.boards.set(id, this.parsed(id, json));
  }

  /** The config of a board, keeping the object when nothing changed: the pipeline remembers its specs per object. */
  private parsed(id: string, json: string): BoardConfig {
    const known = this.boards.get(id);
    return known && JSON.stringify(known) === json ? known : (JSON.parse(json) as BoardConfig);
  }

  /** The board's configuration, from memory. */
  get(id: string): BoardConfig | undefined {
    return this.boards.get(id);
  }

  /** How many boards there are. */
  get size(): number {
    return this.boards.size;
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

  /** Catches up when a batch names boards this process does not know yet (GroupSource). */
  async refresh(): Promise<void> {
    await this.sync();
  }

  /** Whether every id is known, catching up once if one is not (a board just created elsewhere). */
  async knowsAll(ids: Iterable<string>): Promise<boolean> {
    const missing = () => [...ids].some((id) => !this.boards.has(id));
    if (!missing()) return true;
    await this.sync();
    return !missing();
  }

  list(): BoardConfig[] {
    return this.ids().map((id) => this.boards.get(id)!);
  }

  /**
   * Up to `limit` boards whose id sorts after `after` (all from the first without it).
   *
   * @example
   * let page = boards.page(100);
   * while (page.next) page = boards.page(100, page.next);
   */
  page(limit: number, after?: string): BoardPage {
    const ids = this.ids();
    let start = 0;
    if (after !== undefined) {
      // The first id greater than `after`.
      let high = ids.length;
      while (start < high) {
        const mid = (start + high) >>> 1;
        if (ids[mid]! <= after) start = mid + 1;
        else high = mid;
      }
    }
    const slice = ids.slice(start, start + limit);
    const more = start + limit < ids.length;
    return { boards: slice.map((id) => this.boards.get(id)!), next: more ? slice[slice.length - 1]! : null };
  }

  private ids(): string[] {
    this.sortedIds ??= [...this.boards.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this.sortedIds;
  }

  /**
   * Creates or updates a board. Windows, K, grace, retention and bounds may change (bounds apply to
   * events from then on: scores already counted stay as they are); policy, order, tie rule and
   * time zone may not. The check and the write are one step in Redis, so two processes cannot
   * both create a board with different policies.
   * @throws BoardConflictError when one of those would change on an existing board.
   * @throws BoardLimitError when the board is new and the registry is full.
   */
  async put(config: BoardConfig): Promise<{ created: boolean; board: BoardConfig }> {
    const created = await this.write(config, 'put');
    if (!this.boards.has(config.id)) this.sortedIds = undefined;
    this.boards.set(config.id, config);
    return { created, board: config };
  }

  private async write(config: BoardConfig, mode: 'put' | 'ensure'): Promise<boolean> {
    const fixed = FIXED_FIELDS.flatMap((field) => [
      field,
      String(config[field] ?? DEFAULT_BOARD[field]),
      String(DEFAULT_BOARD[field]),
    ]);
    const reply = await this.redis.putBoard(
      boardsKey(this.name),
      boardsMetaKey(this.name),
      boardsChangesKey(this.name),
      config.id,
      JSON.stringify(config),
      mode,
      String(this.maxBoards),
      `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`,
      ...fixed,
    );
    if (reply[0] === 'conflict') throw new BoardConflictError(config.id, reply[1]);
    if (reply[0] === 'full') throw new BoardLimitError(this.maxBoards);
    const [created, version, epoch] = reply;
    // Nothing else changed in between: this process is still caught up.
    if (version === this.version + 1 && epoch === this.epoch) this.version = version;
    return created === 1;
  }
}
