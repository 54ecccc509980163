/**
 * What a benchmark group is. A group measures a few figures together with the baselines they are
 * judged against, in the same repetition, on the same Redis, so a ratio survives a noisy machine
 * better than an absolute number does. The runner repeats the group and reports medians.
 */
import type { Redis } from 'ioredis';

/**
 * One number a group reports, e.g. `consumerGroups.produceEntriesPerSec`. Paths are unique across
 * all groups (a run rejects a path reported twice), so a group names its own baselines, e.g.
 * `baselines.rawXaddPerSec`, and another group measuring raw XADD differently picks another name.
 */
export interface FigureSpec {
  /**
   * Dotted path of the figure in `latest.json` (`consumerGroups.produceEntriesPerSec` is written
   * as `{ "consumerGroups": { "produceEntriesPerSec": ... } }`).
   */
  path: string;
  unit: string;
  /** Path of the figure of the same group it is compared with; absent for baselines. */
  baseline?: string;
}

/** What the runner gives every group. */
export interface BenchContext {
  redisUrl: string;
  /** A client for setup and clean-up, shared by the groups. Groups open their own for the work. */
  redis: Redis;
  /** `BENCH_QUICK=1`: sizes cut down for a smoke test; the figures mean little. */
  quick: boolean;
  /** A key prefix no other repetition or run uses, e.g. `bench:cg:1a2b3c`. */
  uniquePrefix(label: string): string;
  log(message: string): void;
}

export interface Repetition {
  /** 0-based index among the measured repetitions; the warm-up is not counted. */
  index: number;
  /** The warm-up run: smaller sizes are fine, its figures are thrown away. */
  warmup: boolean;
}

/** One repetition's measurements, by figure path. */
export type Sample = Record<string, number>;

/** A group ready to run, after its one-time setup (generated records, connections...). */
export interface PreparedBenchmark {
  /** Sizes and settings, printed and written to the results so a figure can be read in context. */
  parameters: Record<string, number | string>;
  /** Measures every figure once. Keys it creates must be fresh and removed before it returns. */
  run(repetition: Repetition): Promise<Sample>;
  dispose?(): Promise<void>;
}

/**
 * A named benchmark group, one file in `loadtest/benchmarks/`, registered in `loadtest/bench.ts`.
 *
 * @example
 * export const pipeline: BenchmarkGroup = {
 *   name: 'pipeline',
 *   description: 'ZADD through the apply script vs raw ZADD',
 *   figures: [
 *     { path: 'pipeline.applyPerSec', unit: 'events/s', baseline: 'baselines.rawZaddPerSec' },
 *     { path: 'baselines.rawZaddPerSec', unit: 'events/s' },
 *   ],
 *   prepare: (ctx) => ({ parameters: {}, run: async () => ({ ... }) }),
 * };
 */
export interface BenchmarkGroup {
  /** What `BENCH_ONLY` selects it by. */
  name: string;
  description: string;
  figures: readonly FigureSpec[];
  prepare(context: BenchContext): PreparedBenchmark | Promise<PreparedBenchmark>;
}

/** Runs `work` and returns how long it took, in seconds (monotonic clock). */
export async function elapsedSeconds(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}
