/**
 * The capacity model's arithmetic on a results file of round figures
 * (`fixtures/capacityResults.json`), worked out by hand in each test.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { capacityCommand } from '../../loadtest/capacity.js';
import { capacityFor, costsFrom, zipfNorm } from '../../loadtest/capacityModel.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/capacityResults.json', import.meta.url));
const results = (): Record<string, unknown> => JSON.parse(readFileSync(FIXTURE, 'utf8'));

describe('the capacity model', () => {
  it('sizes uniform single-event traffic from the cluster group’s costs', () => {
    // Redis: 10 µs append + 5 µs apply = 15 µs an event; a core at 0.6 takes 40,000 events/s.
    const fleet = capacityFor(costsFrom(results()), {
      eventsPerSec: 1_200_000,
      users: 1_000_000,
      windows: 1,
    });
    expect(fleet.redisUsPerEvent).toBe(15);
    expect(fleet.eventsPerSecPerShard).toBe(40_000);
    // 1.2M x 15 µs / 0.6 = 30 cores; 4 partitions each, so each master takes exactly a 30th.
    expect({ masters: fleet.masters, replicas: fleet.replicas, partitions: fleet.partitions }).toEqual({
      masters: 30,
      replicas: 30,
      partitions: 120,
    });
    expect(fleet.clusters).toBe(1);
    // Workers: 1.2M x 4 µs / 0.6 = 8; edges: 1.2M requests x 100 µs / 0.6 = 200.
    expect(fleet.workerCores).toBe(8);
    expect(fleet.edgeCores).toBe(200);
    // 1M users x 100 B over 30 masters; 1.2M events/s x 600 s x 50 B over 30; then x1.5.
    expect(fleet.scoreSetBytesPerShard).toBeCloseTo(100_000_000 / 30, 3);
    expect(fleet.streamBytesPerShard).toBeCloseTo(1_200_000_000, 3);
    expect(fleet.memoryPerShardBytes).toBeCloseTo((100_000_000 / 30 + 1_200_000_000) * 1.5, 3);
    expect(fleet.warnings).toEqual([]);
    expect(fleet.assumptions.join('\n')).toMatch(/target utilisation per core: 0.6/);
  });

  it('applies the Zipf and window factors to the apply and batches to the edge, and finds the hot partition', () => {
    const fleet = capacityFor(costsFrom(results()), {
      eventsPerSec: 1_200_000,
      eventsPerRequest: 100,
      users: 1_000_000,
      windows: 4,
      zipf: 1.1,
    });
    // Zipf: 60,000 / 80,000 = 0.75; four windows: 60,000 / 20,000 = 3. Apply 5 x 0.75 x 3 = 11.25
    // plus a batched append, 2: 13.25 µs an event, so 26.5 cores: 27 masters, 108 partitions.
    expect(fleet.redisUsPerEvent).toBeCloseTo(13.25, 9);
    expect(fleet.masters).toBe(27);
    expect(fleet.partitions).toBe(108);
    // Workers 4 x 0.75 x 3 = 9 µs: 18 cores; edges: 12,000 requests of 100 x 2 µs: 4 cores.
    expect(fleet.workerCores).toBe(18);
    expect(fleet.edgeCores).toBe(4);
    // The most active of 1M users under Zipf 1.1 sends 1 / H(1M, 1.1) of the events.
    expect(fleet.hottestUserShare).toBeCloseTo(1 / zipfNorm(1_000_000, 1.1), 12);
    expect(fleet.hottestUserShare).toBeGreaterThan(0.12);
    expect(fleet.hottestPartitionEventsPerSec).toBeGreaterThan(fleet.eventsPerSecPerShard);
    expect(fleet.warnings.join('\n')).toMatch(/most active user sends 12\.\d % of the events/);
    expect(fleet.assumptions.join('\n')).toMatch(
      /stand-in: the pipeline group's pipeline.uniform.eventsPerSec/,
    );
  });

  it('adds the rank reads, whose cost grows with the partitions, to the masters and the edges', () => {
    const fleet = capacityFor(costsFrom(results()), {
      eventsPerSec: 1_200_000,
      users: 1_000_000,
      windows: 1,
      rankReadsPerSec: 10_000,
    });
    // A read costs 32 µs x P / 16, spread over the masters: 10,000 x 2 µs x 4 per master = 80,000
    // µs/s whatever their number; events 1.2M x 15 / M must fit in the other 520,000: M = 35.
    expect(fleet.masters).toBe(35);
    expect(fleet.partitions).toBe(140);
    expect(fleet.rankReadRedisUs).toBe(280);
    // Edges: (1.2M x 100 µs + 10,000 x 200 µs) / 0.6 = 203.3: 204.
    expect(fleet.edgeCores).toBe(204);
  });

  it('splits a load bigger than one Redis Cluster into clusters, and says what one board can take', () => {
    const fleet = capacityFor(costsFrom(results()), { eventsPerSec: 1e9, users: 1e8, windows: 1 });
    // 1e9 x 15 / 0.6e6 = 25,000 masters; at 1 replica a 1,000-node cluster has 500: 50 clusters.
    expect(fleet.masters).toBe(25_000);
    expect(fleet.clusters).toBe(50);
    expect(fleet.mastersPerCluster).toBe(500);
    expect(fleet.partitions).toBe(2000);
    expect(fleet.boardMaxEventsPerSec).toBe(20_000_000);
    expect(fleet.warnings.join('\n')).toMatch(/50 clusters of 500 masters/);
  });

  it('adds clusters, not masters, when full clusters cannot take the rank reads', () => {
    const fleet = capacityFor(costsFrom(results()), {
      eventsPerSec: 1e9,
      users: 1e8,
      windows: 1,
      rankReadsPerSec: 1_000_000,
    });
    // Per master, reads cost (1M / C) x 32 µs x 4 / 16 = 8e6 / C µs/s, however many masters a
    // cluster has; events 1e9 / C / M x 15. Full clusters (M = 500): 3.8e7 / C <= 600,000 wants
    // C = 64; then M = 494 is the least with 2.34375e8 / M + 125,000 <= 600,000.
    expect(fleet.clusters).toBe(64);
    expect(fleet.mastersPerCluster).toBe(494);
    expect(fleet.masters).toBe(64 * 494);
    expect(fleet.partitions).toBe(4 * 494);
  });

  it('takes the pipeline group’s costs per event over its throughputs when it reports them', () => {
    const document = results();
    (document.groups as { pipeline: { figures: unknown[] } }).pipeline.figures = [
      { path: 'pipeline.cost.uniform.redisUsPerEvent', median: 8 },
      { path: 'pipeline.cost.uniform.nodeUsPerEvent', median: 10 },
      { path: 'pipeline.cost.zipf.redisUsPerEvent', median: 4 },
      { path: 'pipeline.cost.zipf.nodeUsPerEvent', median: 15 },
    ];
    const costs = costsFrom(document);
    expect(costs.zipfApplyFactor).toMatchObject({ redis: 0.5, worker: 1.5 });
    expect(costs.zipfApplyFactor.source).toMatch(/cost per event/);
    // No four-window costs: the throughput ratio stands in.
    expect(costs.fourWindowsApplyFactor).toMatchObject({ redis: 3, worker: 3 });
  });

  it('refuses results without the cluster group, and bad options, with the reason', () => {
    expect(() => costsFrom({ pipeline: {} })).toThrow(/no cluster\.threeShards\.cost\..*BENCH_ONLY=cluster/);
    expect(() => capacityCommand(['--results', FIXTURE])).toThrow(/--events-per-sec is required/);
    expect(() =>
      capacityCommand(['--events-per-sec', '1e6', '--windows', '5', '--results', FIXTURE]),
    ).toThrow(/--windows must be 1, 2, 3 or 4/);
    const { fleet } = capacityCommand([
      '--events-per-sec',
      '1200000',
      '--users',
      '1000000',
      '--results',
      FIXTURE,
    ]);
    expect(fleet.masters).toBe(30);
  });

  it('normalises Zipf laws exactly for small counts and by the integral for large ones', () => {
    expect(zipfNorm(3, 1)).toBeCloseTo(1 + 1 / 2 + 1 / 3, 12);
    // Against H(1e7, 1.1) summed term by term: the tail’s integral keeps it within 1e-4.
    let exact = 0;
    for (let k = 1; k <= 10_000_000; k++) exact += k ** -1.1;
    expect(Math.abs(zipfNorm(10_000_000, 1.1) - exact) / exact).toBeLessThan(1e-4);
  });
});
