/** How long the state of a window instance is kept: its end, plus grace, plus the board's retention. */
import { windowFor } from './timeWindows.js';
import type { BoardConfig, WindowName } from './types.js';

const DAY_MS = 86_400_000;

/**
 * The epoch ms at which a window instance's keys may expire, or 0 for never (`all`).
 *
 * @example
 * retentionExpiry(board, 'day', Date.UTC(2026, 10, 23)); // 2026-11-24 + grace + retentionDays
 */
export function retentionExpiry(board: BoardConfig | undefined, window: WindowName, start: number): number {
  if (window === 'all' || !board) return 0;
  return windowFor(window, start).end + board.graceSeconds * 1000 + board.retentionDays * DAY_MS;
}
