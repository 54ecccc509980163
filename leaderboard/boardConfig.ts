/**
 * A board's configuration: its one schema (the HTTP contract's `BoardConfig`, validated here and
 * nowhere else), the board a fresh start has, and how a board becomes a group of the leaderboard
 * pipeline (its reducer, windows, order, K, tie rule, retention).
 */
import { z } from 'zod';
import type { GroupSettings } from '../topology/index.js';
import { checkWindowName, windowDefinition } from '../topology/windows/index.js';
import { BOARD_ID, BOARD_ID_RULE, ORDERS, POLICIES, type Policy, TIE_BREAKS } from './rules.js';

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
    tieBreak: z.enum(TIE_BREAKS).default('shared'),
    timeZone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, {
        error: (issue) => `'${String(issue.input)}' is not an IANA time zone name (e.g. Europe/Paris, UTC)`,
      }),
    minValue: z.number().refine(Number.isFinite, 'must be a finite number').optional(),
    maxValue: z.number().refine(Number.isFinite, 'must be a finite number').optional(),
  })
  .strict()
  .refine((b) => b.minValue === undefined || b.maxValue === undefined || b.minValue <= b.maxValue, {
    message: 'minValue must not be above maxValue',
    path: ['minValue'],
  });

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
  /**
   * `shared`: equal scores share a rank (1, 2, 2, 4), listed by user id bytes; `first`: equal
   * scores are ranked by who reached them first (the event time that set each score, then the
   * user id bytes), so ranks are unique. Default `shared`.
   */
  tieBreak?: TieRule;
  /** The IANA zone the hour, day, week and month windows follow. Default `UTC`. */
  timeZone?: string;
  /** Bounds on each event's value (an event outside them is refused with 400). */
  minValue?: number;
  maxValue?: number;
}

export type TieRule = (typeof TIE_BREAKS)[number];

/** The fields a board keeps for good: changing one would mix two meanings in one set of scores. */
export const FIXED_FIELDS = ['policy', 'order', 'tieBreak', 'timeZone'] as const;

/** The board a fresh start has, so the service is usable at once. */
export const DEFAULT_BOARD: BoardConfig = {
  id: 'global',
  policy: 'sum',
  order: 'desc',
  windows: ['all', 'day', 'week', 'month'],
  topK: 100,
  graceSeconds: 300,
  retentionDays: 30,
  tieBreak: 'shared',
  timeZone: 'UTC',
};

/**
 * The pipeline group a board is.
 *
 * @example
 * groupSettings(DEFAULT_BOARD).windows.map((w) => w.name); // ['all', 'day', 'week', 'month']
 */
export function groupSettings(board: BoardConfig): Required<Omit<GroupSettings, 'tieBreak'>> & GroupSettings {
  const graceMs = board.graceSeconds * 1000;
  const timeZone = board.timeZone ?? 'UTC';
  return {
    reduce: board.policy,
    windows: board.windows.map((name) => windowDefinition(name, { timeZone, graceMs })),
    order: board.order,
    k: board.topK,
    tieBreak: (board.tieBreak ?? 'shared') === 'first' ? 'earliest' : 'member',
    retentionMs: board.retentionDays * DAY_MS,
  };
}

/** Whether a name is a time zone the windows can follow. */
function isTimeZone(zone: string): boolean {
  try {
    windowDefinition('day', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why an event's value is refused by the board's bounds, or undefined when it is within them.
 *
 * @example
 * outOfBounds({ ...board, maxValue: 100 }, 150); // 'value 150 is above the board's maxValue 100'
 */
export function outOfBounds(board: BoardConfig, value: number): string | undefined {
  if (board.minValue !== undefined && value < board.minValue) {
    return `value ${value} is below the board's minValue ${board.minValue}`;
  }
  if (board.maxValue !== undefined && value > board.maxValue) {
    return `value ${value} is above the board's maxValue ${board.maxValue}`;
  }
  return undefined;
}
