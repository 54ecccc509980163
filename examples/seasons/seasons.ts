/**
 * Example: wins per player per season, where seasons are a custom kind of window (irregular
 * lengths, set by their start dates) and ties go to whoever reached the count first. It shows a
 * user-defined `WindowDefinition`, the `count` reducer and the `earliest` tie rule.
 */
import { z } from 'zod';
import {
  type LateRecord,
  lateRecords,
  type TimeWindow,
  Topology,
  type WindowDefinition,
} from '../../topology/index.js';

/**
 * Seasons that start at given instants (epoch ms, ascending) and each run until the next one
 * starts; the last season runs until `end`. Times before the first season belong to no window.
 */
export class Seasons implements WindowDefinition {
  readonly name = 'season';

  constructor(
    private readonly starts: readonly number[],
    private readonly end: number,
    readonly graceMs = 0,
  ) {
    if (
      starts.length === 0 ||
      starts.some((s, i) => i > 0 && s <= starts[i - 1]!) ||
      end <= starts[starts.length - 1]!
    ) {
      throw new RangeError('Seasons: starts must ascend, and end must come after the last start');
    }
  }

  private season(i: number): TimeWindow {
    return { start: this.starts[i]!, end: this.starts[i + 1] ?? this.end };
  }

  windowsFor(ts: number): TimeWindow[] {
    const i = this.indexAt(ts);
    return i < 0 ? [] : [this.season(i)];
  }

  windowAt(ts: number): TimeWindow {
    const i = this.indexAt(ts);
    return this.season(Math.max(0, i));
  }

  windowStartingAt(start: number): TimeWindow | undefined {
    const i = this.starts.indexOf(start);
    return i < 0 ? undefined : this.season(i);
  }

  previous(window: TimeWindow): TimeWindow | undefined {
    const i = this.starts.indexOf(window.start);
    return i > 0 ? this.season(i - 1) : undefined;
  }

  describe(): string {
    return `${this.starts.length} seasons from ${new Date(this.starts[0]!).toISOString().slice(0, 10)}`;
  }

  /** The season holding `ts`, or -1 (before the first one, or after the end). */
  private indexAt(ts: number): number {
    if (ts >= this.end) return -1;
    let i = -1;
    for (let j = 0; j < this.starts.length && this.starts[j]! <= ts; j++) i = j;
    return i;
  }
}

export const Match = z.object({
  matchId: z.string(),
  league: z.string(),
  winner: z.string(),
  /** When the match ended, epoch ms. */
  at: z.number().int().nonnegative(),
});
export type Match = z.infer<typeof Match>;

/**
 * @example
 * const standings = seasonStandings(new Seasons([spring, summer, autumn], winter), (late) => log(late));
 */
export function seasonStandings(seasons: Seasons, onLate: (late: LateRecord) => void = () => {}) {
  return Topology.fromStreams('matches', {
    schema: Match,
    partitionKey: (m) => m.winner,
    eventTime: (m) => m.at,
  })
    .windowedBy(seasons)
    .aggregate({ group: (m) => m.league, member: (m) => m.winner, id: (m) => m.matchId, reduce: 'count' })
    .topK(3, { tieBreak: 'earliest' })
    .to(lateRecords(onLate))
    .named('seasons');
}
