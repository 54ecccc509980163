/**
 * Runs benchmark groups: one warm-up repetition (thrown away), then N measured repetitions, and
 * reduces each figure to its median. A ratio is the median over repetitions of
 * figure / baseline measured in the same repetition, so a slow patch of a shared machine that
 * hits both halves of a pair cancels out instead of skewing the result.
 */
import type { BenchContext, BenchmarkGroup, Sample } from './benchmark.js';
import { median, range } from './statistics.js';

export interface RunOptions {
  repetitions: number;
  warmup: boolean;
}

export interface FigureResult {
  path: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  samples: number[];
  baseline?: string;
  /** Median of the per-repetition ratios figure / baseline. */
  ratio?: number;
  ratioSamples?: number[];
}

export interface GroupResult {
  name: string;
  description: string;
  parameters: Record<string, number | string>;
  repetitions: number;
  durationMs: number;
  figures: FigureResult[];
}

/** Runs one group to the end and always disposes of it. */
export async function runGroup(
  group: BenchmarkGroup,
  context: BenchContext,
  options: RunOptions,
): Promise<GroupResult> {
  validateGroup(group);
  const started = Date.now();
  const prepared = await group.prepare(context);
  const samples: Sample[] = [];
  try {
    if (options.warmup) {
      context.log(`${group.name}: warm-up`);
      await prepared.run({ index: 0, warmup: true });
    }
    for (let index = 0; index < options.repetitions; index++) {
      const sample = await prepared.run({ index, warmup: false });
      checkSample(group, sample);
      samples.push(sample);
      context.log(`${group.name}: repetition ${index + 1}/${options.repetitions} ${describeSample(sample)}`);
    }
  } finally {
    await prepared.dispose?.();
  }
  return {
    name: group.name,
    description: group.description,
    parameters: prepared.parameters,
    repetitions: options.repetitions,
    durationMs: Date.now() - started,
    figures: group.figures.map((figure) => {
      const values = samples.map((s) => s[figure.path]!);
      const [min, max] = range(values);
      const result: FigureResult = {
        path: figure.path,
        unit: figure.unit,
        median: median(values),
        min,
        max,
        samples: values,
      };
      if (figure.baseline) {
        const ratios = samples.map((s) => s[figure.path]! / s[figure.baseline!]!);
        result.baseline = figure.baseline;
        result.ratio = median(ratios);
        result.ratioSamples = ratios;
      }
      return result;
    }),
  };
}

/** A figure's baseline must be measured by the same group, or the ratio would mix runs. */
function validateGroup(group: BenchmarkGroup): void {
  const paths = new Set(group.figures.map((f) => f.path));
  for (const figure of group.figures) {
    if (figure.baseline && !paths.has(figure.baseline)) {
      throw new Error(
        `${group.name}: baseline ${figure.baseline} of ${figure.path} is not one of its figures`,
      );
    }
  }
}

function checkSample(group: BenchmarkGroup, sample: Sample): void {
  for (const figure of group.figures) {
    const value = sample[figure.path];
    if (value === undefined || !Number.isFinite(value) || value <= 0) {
      throw new Error(`${group.name}: repetition gave no usable value for ${figure.path} (${value})`);
    }
  }
}

function describeSample(sample: Sample): string {
  return Object.entries(sample)
    .map(([path, value]) => `${path.slice(path.lastIndexOf('.') + 1)}=${Math.round(value)}`)
    .join(' ');
}
