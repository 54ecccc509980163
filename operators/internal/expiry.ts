/**
 * When a window instance closes for good (its end plus grace: no record is applied to it after
 * that, by stream time) and when its state may expire (then, plus the group's retention). Used by
 * the apply script's arguments, the snapshots and the archive, so all agree.
 */
import type { GroupSpec, WindowInstance } from '../types.js';

/**
 * The epoch ms at which an instance's keys may expire, or 0 for never (an instance that never
 * ends, such as the global window's).
 *
 * @example
 * expiryOf(dayInstance, spec); // end + grace + spec.retentionMs
 */
export function expiryOf(window: WindowInstance, spec: GroupSpec): number {
  return Number.isFinite(window.end) ? window.end + window.definition.graceMs + spec.retentionMs : 0;
}

/**
 * The epoch ms at which an instance closes (end plus grace), or 0 for never.
 *
 * @example
 * closeTimeOf(dayInstance); // end + grace
 */
export function closeTimeOf(window: WindowInstance): number {
  return Number.isFinite(window.end) ? window.end + window.definition.graceMs : 0;
}
