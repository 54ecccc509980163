/**
 * A board's configuration: its one schema (the HTTP contract's `BoardConfig`, validated here and
 * nowhere else), the board a fresh start has, and how a board becomes a group of the leaderboard
 * pipeline (its reducer, windows, order, K, tie rule, retention).
 */
import { z } from 'zod';
import type { GroupSettings } from '../topology/index.js';
import { checkWindowName, windowDefinition } from '../topology/windows/index.js';
import { BOARD_ID, BOARD_ID_RULE, ORDERS, POLICIES, type Policy } from './rules.js';

const DAY_MS = 86_400_000;

export const boardConfigSchema = z
  .object({
    id: z.string().regex(BOARD_ID, `board id ${BOARD_ID_RULE}`),
    policy: z.enum(POLICIES).default('sum'),
    order: z.enum(ORDERS).default('desc'),
    windows: z
      .array(
        z.string().transform((name, ctx) => {
          const check = checkWindowName(name);
          if (check.ok) return check.name;
          ctx.addIssue({ code: 'custom', message: check.message });
          return z.NEVER;
        }),
      )
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

export interface BoardConfig {
  id: string;
  policy: Policy;
  order: 'desc' | 'asc';
  /** Window names: `all`, `hour`, `day`, `week`, `month`, or an ISO-8601 duration (canonical). */
  windows: string[];
  /** Size of the cached global top. */
  topK: number;
  /** How long after a window's end its late events are still applied. */
  graceSeconds: number;
  /** How long the scores of closed windows are kept in Redis. */
  retentionDays: number;
}

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

/**
 * The pipeline group a board is.
 *
 * @example
 * groupSettings(DEFAULT_BOARD).windows.map((w) => w.name); // ['all', 'day', 'week', 'month']
 */
export function groupSettings(board: BoardConfig): Required<Omit<GroupSettings, 'tieBreak'>> & GroupSettings {
  const graceMs = board.graceSeconds * 1000;
  return {
    reduce: board.policy,
    windows: board.windows.map((name) => windowDefinition(name, { graceMs })),
    order: board.order,
    k: board.topK,
    tieBreak: 'member',
    retentionMs: board.retentionDays * DAY_MS,
  };
}
