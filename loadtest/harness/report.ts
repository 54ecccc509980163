/**
 * What a run leaves behind: a table on stdout and a JSON document. In the JSON every figure's
 * median sits at its dotted path (`consumerGroups.produceEntriesPerSec`), ratios at the same path
 * under `ratios`, and the details (samples, spread, parameters) under `groups`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FigureResult, GroupResult } from './runner.js';

export interface RunInfo {
  generatedAt: string;
  command: string;
  environment: Record<string, unknown>;
  settings: Record<string, unknown>;
}

const RESERVED = new Set(['generatedAt', 'command', 'environment', 'settings', 'ratios', 'groups']);

/** The results document: medians by path, ratios by path, then everything else. */
export function resultsDocument(info: RunInfo, groups: readonly GroupResult[]): Record<string, unknown> {
  const document: Record<string, unknown> = { ...info };
  const ratios: Record<string, unknown> = {};
  for (const group of groups) {
    for (const figure of group.figures) {
      setPath(document, figure.path, round(figure.median));
      if (figure.ratio !== undefined) setPath(ratios, figure.path, round(figure.ratio, 3));
    }
  }
  document.ratios = ratios;
  document.groups = Object.fromEntries(
    groups.map((g) => [
      g.name,
      {
        run: { generatedAt: info.generatedAt, command: info.command, environment: info.environment },
        description: g.description,
        parameters: g.parameters,
        repetitions: g.repetitions,
        durationMs: g.durationMs,
        figures: g.figures.map((f) => ({
          ...f,
          median: round(f.median),
          min: round(f.min),
          max: round(f.max),
          samples: f.samples.map((v) => round(v)),
          ...(f.ratio === undefined
            ? {}
            : { ratio: round(f.ratio, 3), ratioSamples: f.ratioSamples?.map((r) => round(r, 3)) }),
        })),
      },
    ]),
  );
  return document;
}

interface StoredGroup {
  run?: unknown;
  figures: { path: string; median: number; ratio?: number }[];
}

/**
 * This run's document, plus the groups of `previous` that it did not run, in `order`: a
 * `BENCH_ONLY` run replaces its own groups in `latest.json` and keeps the others. Every group
 * says which run measured it (`groups.<name>.run`); a kept group without one gets `previous`'s.
 */
export function mergeResults(
  previous: Record<string, unknown>,
  current: Record<string, unknown>,
  order: readonly string[],
): Record<string, unknown> {
  const previousGroups = (previous.groups ?? {}) as Record<string, StoredGroup>;
  const currentGroups = current.groups as Record<string, StoredGroup>;
  const previousRun = {
    generatedAt: previous.generatedAt,
    command: previous.command,
    environment: previous.environment,
  };
  const { generatedAt, command, environment, settings } = current;
  const merged: Record<string, unknown> = { generatedAt, command, environment, settings };
  const ratios: Record<string, unknown> = {};
  const groups: Record<string, StoredGroup> = {};
  for (const name of order) {
    const kept = previousGroups[name];
    const group = currentGroups[name] ?? (kept && { run: previousRun, ...kept });
    if (!group) continue;
    groups[name] = group;
    for (const figure of group.figures) {
      setPath(merged, figure.path, figure.median);
      if (figure.ratio !== undefined) setPath(ratios, figure.path, figure.ratio);
    }
  }
  merged.ratios = ratios;
  merged.groups = groups;
  return merged;
}

export function writeResults(path: string, document: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`);
}

/** The table printed at the end of a run, one block per group. */
export function formatTable(groups: readonly GroupResult[]): string {
  const blocks = groups.map((group) => {
    const parameters = Object.entries(group.parameters)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const header = [
      `${group.name}: ${group.description}`,
      `  ${parameters}`,
      `  median of ${group.repetitions} repetitions, ${(group.durationMs / 1000).toFixed(1)} s in all`,
    ];
    const rows = [
      ['name', 'value', 'unit', 'ratio', 'vs baseline', 'min..max'],
      ...group.figures.map(figureRow),
    ];
    return [...header, ...alignColumns(rows, [false, true, false, true, false, true])].join('\n');
  });
  return [
    ...blocks,
    'ratio: median over repetitions of figure / baseline, both measured in the same repetition',
  ].join('\n\n');
}

function figureRow(figure: FigureResult): string[] {
  return [
    figure.path,
    formatNumber(figure.median),
    figure.unit,
    figure.ratio === undefined ? '' : `${figure.ratio.toFixed(2)}x`,
    figure.baseline ?? '(baseline)',
    `${formatNumber(figure.min)}..${formatNumber(figure.max)}`,
  ];
}

function alignColumns(rows: string[][], alignRight: boolean[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map(
    (row) =>
      `  ${row
        .map((cell, c) => (alignRight[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd()}`,
  );
}

function formatNumber(value: number): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function round(value: number, digits = 0): number {
  const scale = 10 ** (Math.abs(value) >= 100 ? digits : Math.max(digits, 3));
  return Math.round(value * scale) / scale;
}

const INDEX = /^(0|[1-9]\d*)$/;

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  if (RESERVED.has(parts[0]!)) throw new Error(`figure path ${path} uses the reserved name ${parts[0]}`);
  let node = target;
  for (const [i, part] of parts.slice(0, -1).entries()) {
    const next = node[part];
    // A segment followed by an index (`freshness.curve.0.p50Ms`) holds an array.
    if (next === undefined) node[part] = INDEX.test(parts[i + 1]!) ? [] : {};
    else if (typeof next !== 'object' || next === null) throw new Error(`figure path ${path} collides`);
    node = node[part] as Record<string, unknown>;
  }
  const leaf = parts[parts.length - 1]!;
  if (leaf in node) throw new Error(`figure path ${path} is reported twice`);
  node[leaf] = value;
}
