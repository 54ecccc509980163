/**
 * The durable copy of the board configs: what `PUT /v1/boards/:board` saved survives restarts and
 * is shared by every process.
 */
import type { BoardConfig } from '../boardConfig.js';
import { ORDERS, POLICIES, TIE_BREAKS } from '../rules.js';
import type { Queryable } from './database.js';
import { checkArray, checkBoardId, checkInteger, checkWindow } from './inputChecks.js';
import { StoreInputError } from './storeInputError.js';

/**
 * Creates or replaces a board's config. Only the fields of {@link BoardConfig} are stored.
 *
 * ## Example
 * ```ts
 * import { saveBoard } from './leaderboard/store/boards.js';
 *
 * const { created } = await saveBoard(db, {
 *   id: 'global', policy: 'sum', order: 'desc', windows: ['all', 'day', 'week', 'month'],
 *   topK: 100, graceSeconds: 300, retentionDays: 30,
 * }); // created: true the first time (HTTP 201), false afterwards (200)
 * ```
 *
 * @see {@link listBoards}
 * @return Whether the board was new.
 * @throws StoreInputError for an invalid field; nothing is written then.
 */
export async function saveBoard(db: Queryable, config: BoardConfig): Promise<{ created: boolean }> {
  const board = checkBoardConfig(config);
  // xmax is 0 only on a freshly inserted row version, so it tells an insert from an update.
  const [row] = await db.query<{ created: boolean }>(
    `INSERT INTO boards (id, config) VALUES ($1, $2::jsonb)
     ON CONFLICT (id) DO UPDATE SET config = EXCLUDED.config, updated_at = now()
     RETURNING (xmax = 0) AS created`,
    [board.id, JSON.stringify(board)],
  );
  return { created: row?.created === true };
}

/** Every saved board config, sorted by id. */
export async function listBoards(db: Queryable): Promise<BoardConfig[]> {
  const rows = await db.query<{ config: BoardConfig }>('SELECT config FROM boards ORDER BY id');
  return rows.map((row) => row.config);
}

function checkBoardConfig(config: BoardConfig): BoardConfig {
  if (typeof config !== 'object' || config === null) throw new StoreInputError('board', 'an object', config);
  const id = checkBoardId(config.id, 'id');
  const policy = checkOneOf(config.policy, 'policy', POLICIES);
  const order = checkOneOf(config.order, 'order', ORDERS);
  const windows = checkArray(config.windows, 'windows').map((w, i) => checkWindow(w, `windows[${i}]`));
  if (windows.length === 0 || new Set(windows).size !== windows.length) {
    throw new StoreInputError('windows', 'a non-empty list of distinct window names', windows);
  }
  return {
    id,
    policy,
    order,
    windows,
    topK: checkInteger(config.topK, 'topK', 1, 10_000),
    graceSeconds: checkInteger(config.graceSeconds, 'graceSeconds', 0),
    retentionDays: checkInteger(config.retentionDays, 'retentionDays', 0),
    tieBreak: checkOneOf(config.tieBreak ?? 'shared', 'tieBreak', TIE_BREAKS),
    timeZone: checkText(config.timeZone ?? 'UTC', 'timeZone'),
    ...checkBounds(config),
  };
}

function checkText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) {
    throw new StoreInputError(field, 'a name of 1 to 64 characters', value);
  }
  return value;
}

function checkBounds(config: BoardConfig): Pick<BoardConfig, 'minValue' | 'maxValue'> {
  const bounds: Pick<BoardConfig, 'minValue' | 'maxValue'> = {};
  for (const field of ['minValue', 'maxValue'] as const) {
    const value = config[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new StoreInputError(field, 'a finite number', value);
    bounds[field] = value;
  }
  return bounds;
}

function checkOneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new StoreInputError(field, `one of ${allowed.join(', ')}`, value);
  }
  return value as T;
}
