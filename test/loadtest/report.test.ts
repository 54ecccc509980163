import { describe, expect, it } from 'vitest';
import { mergeResults, resultsDocument } from '../../loadtest/harness/report.js';
import type { GroupResult } from '../../loadtest/harness/runner.js';

function group(name: string, path: string, median: number, ratio?: number): GroupResult {
  return {
    name,
    description: `${name} group`,
    parameters: {},
    repetitions: 1,
    durationMs: 10,
    figures: [
      {
        path,
        unit: 'ops/s',
        median,
        min: median,
        max: median,
        samples: [median],
        ...(ratio === undefined ? {} : { baseline: `${path}Base`, ratio, ratioSamples: [ratio] }),
      },
    ],
  };
}

const run = (generatedAt: string, command: string) => ({
  generatedAt,
  command,
  environment: { node: 'v20' },
  settings: {},
});

describe('mergeResults (BENCH_ONLY runs keep the other groups in latest.json)', () => {
  const previous = resultsDocument(run('2026-01-01T00:00:00.000Z', 'npm run bench'), [
    group('a', 'alpha.rate', 100, 0.5),
    group('b', 'beta.rate', 200),
  ]);
  const current = resultsDocument(run('2026-02-02T00:00:00.000Z', 'BENCH_ONLY=b npm run bench'), [
    group('b', 'beta.rate', 300, 0.9),
  ]);
  const merged = mergeResults(JSON.parse(JSON.stringify(previous)), current, ['a', 'b']);

  it('takes the groups this run measured and keeps the others, figures and ratios alike', () => {
    expect(merged).toMatchObject({
      generatedAt: '2026-02-02T00:00:00.000Z',
      alpha: { rate: 100 },
      beta: { rate: 300 },
      ratios: { alpha: { rate: 0.5 }, beta: { rate: 0.9 } },
    });
    expect(Object.keys(merged.groups as object)).toEqual(['a', 'b']);
  });

  it('says which run measured each group', () => {
    const groups = merged.groups as Record<string, { run: { command: string; generatedAt: string } }>;
    expect(groups.a!.run).toMatchObject({
      command: 'npm run bench',
      generatedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(groups.b!.run).toMatchObject({ command: 'BENCH_ONLY=b npm run bench' });
  });

  it('drops a ratio the new run no longer reports', () => {
    const again = mergeResults(merged, resultsDocument(run('x', 'y'), [group('a', 'alpha.rate', 7)]), [
      'a',
      'b',
    ]);
    expect(again).toMatchObject({ alpha: { rate: 7 }, ratios: { beta: { rate: 0.9 } } });
    expect((again.ratios as Record<string, unknown>).alpha).toBeUndefined();
  });
});

describe('resultsDocument', () => {
  it('writes a path with an index as an array of objects (freshness.curve.0.p50Ms)', () => {
    const points = [0, 1].flatMap((i) => [
      group(`p${i}s`, `freshness.curve.${i}.offeredShare`, (i + 1) / 10),
      group(`p${i}m`, `freshness.curve.${i}.p50Ms`, 20 + i),
    ]);
    const document = resultsDocument(run('2026-03-03T00:00:00.000Z', 'npm run bench'), points);
    expect(document.freshness).toEqual({
      curve: [
        { offeredShare: 0.1, p50Ms: 20 },
        { offeredShare: 0.2, p50Ms: 21 },
      ],
    });
  });
});
