import { firstValueFrom, from, map, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { leaderboardTopology } from '../../topology/leaderboard.js';
import { Topology } from '../../topology/topology.js';

describe('Topology', () => {
  it('builds its stages in order against a context and describes the graph', async () => {
    const seen: number[] = [];
    const topology = Topology.define<{ values: number[]; factor: number }>('doubling')
      .source('numbers', (ctx) => from(ctx.values), 'an array')
      .process('scale', (ctx) => map((x: number) => x * ctx.factor))
      .sink('record', () => tap((x: number) => seen.push(x)));
    const out = await firstValueFrom(topology.build({ values: [1, 2, 3], factor: 10 }).pipe(toArray()));
    expect(out).toEqual([10, 20, 30]);
    expect(seen).toEqual([10, 20, 30]);
    expect(topology.describe()).toBe(
      [
        'Topology: doubling',
        '  Source: numbers (an array)',
        '    --> scale',
        '  Processor: scale',
        '    --> record',
        '  Sink: record',
        '    --> none',
      ].join('\n'),
    );
  });

  it('refuses two stages with one name', () => {
    const start = Topology.define<object>('t').source('s', () => from([1]));
    expect(() => start.process('s', () => map((x: number) => x))).toThrow(/stage 's' already exists/);
  });

  it('defines the leaderboard as source, parse, windows, aggregate, apply and top-K stages', () => {
    expect(leaderboardTopology.stagesInOrder().map((s) => `${s.kind}:${s.name}`)).toEqual([
      'source:scores',
      'processor:boards',
      'processor:parse',
      'processor:windows',
      'processor:aggregate',
      'processor:apply',
      'sink:metrics',
      'sink:topK',
    ]);
  });
});
